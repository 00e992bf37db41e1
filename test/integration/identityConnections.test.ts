import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { startAzuriteOverTls, type AzuriteOverTls } from '../support/azuriteOverTls';
import { startFakeServiceBusBroker, type FakeServiceBusBroker } from '../support/fakeServiceBusBroker';
import { unsignedStorageToken } from '../support/fixedTokenCredential';
import { createLoopbackCertificate, type LoopbackCertificate } from '../support/loopbackTls';

const PROBE = path.resolve(__dirname, '..', 'support', 'identityCompositionProbe.js');
const CLIENT_ID = '8c7f1b9e-2d4a-4c51-9e0f-3a6b5d7c9e21';

/**
 * Identity-based connections end to end, minus Entra ID: the container is composed (in a process of
 * its own, see the probe) from identity-based settings only, with a credential issuing one fixed
 * token, against Azurite over TLS with `--oauth basic` (which refuses a request without a valid
 * bearer token) and the fake Service Bus broker over TLS. The stand-ins record what arrived.
 */
describe('identity-based connections', () => {
  let tls: LoopbackCertificate;
  let azurite: AzuriteOverTls;
  let broker: FakeServiceBusBroker;

  before(async () => {
    tls = await createLoopbackCertificate();
    azurite = await startAzuriteOverTls(tls);
    broker = await startFakeServiceBusBroker({ tls });
  });

  after(async () => {
    await broker?.close();
    await azurite?.stop();
    tls?.remove();
  });

  it('composes from identity settings alone, and the fixed token arrives as Authorization: Bearer on table, queue and Service Bus calls', async () => {
    const token = unsignedStorageToken();
    // Nothing inherited: no connection string can reach the probe, from this test or the machine.
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_EXTRA_CA_CERTS: tls.certFile,
      PROBE_TOKEN: token,
      AzureWebJobsStorage__tableServiceUri: azurite.tableServiceUri,
      AzureWebJobsStorage__queueServiceUri: azurite.queueServiceUri,
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: CLIENT_ID,
      ServiceBusConnection__fullyQualifiedNamespace: `127.0.0.1:${broker.port}`,
      ServiceBusConnection__credential: 'managedidentity',
      ServiceBusConnection__clientId: CLIENT_ID,
      AUTH_MODE: 'off',
    };
    assert.ok(
      Object.entries(env).every(
        ([name, value]) => !/^(AzureWebJobsStorage|ServiceBusConnection)$/.test(name) && !/AccountKey|SharedAccessKey/i.test(value),
      ),
    );

    const { stdout } = await promisify(execFile)(process.execPath, [PROBE], { env, timeout: 60_000 });
    const probe = JSON.parse(stdout.trim().split('\n').pop() as string);

    assert.deepEqual(probe.storage, {
      kind: 'identity',
      credential: 'managedidentity',
      clientId: CLIENT_ID,
      tableServiceUri: azurite.tableServiceUri,
      queueServiceUri: azurite.queueServiceUri,
    });
    assert.deepEqual(probe.serviceBus, {
      kind: 'identity',
      credential: 'managedidentity',
      clientId: CLIENT_ID,
      fullyQualifiedNamespace: `127.0.0.1:${broker.port}`,
    });
    assert.deepEqual(
      probe.askedFor.map((c: { credential: string; clientId: string }) => [c.credential, c.clientId]),
      [
        ['managedidentity', CLIENT_ID],
        ['managedidentity', CLIENT_ID],
      ],
      'the composition asks once per identity (its table and queue clients share the credential); the probe once for Service Bus',
    );
    assert.ok(probe.scopes.includes('https://storage.azure.com/.default'), `storage scope asked for: ${probe.scopes}`);
    assert.equal(probe.empty, true, 'a table query answered');

    const bearer = `Bearer ${token}`;
    const tableCalls = azurite.requests.filter((r) => r.service === 'table');
    const queueCalls = azurite.requests.filter((r) => r.service === 'queue');
    assert.ok(
      tableCalls.some((r) => r.method === 'POST' && r.path.endsWith('/Tables')),
      'the table was created',
    );
    assert.ok(
      queueCalls.some((r) => r.method === 'POST' && r.path.includes('/endpoint-create/messages')),
      'a message was sent',
    );
    assert.ok(tableCalls.length > 0 && tableCalls.every((r) => r.authorization === bearer), 'every table call carried the token');
    assert.ok(queueCalls.length > 0 && queueCalls.every((r) => r.authorization === bearer), 'every queue call carried the token');

    assert.deepEqual(
      broker.received('endpoint-create').map((m) => m.messageId),
      ['probe-2'],
    );
    const jwts = broker.cbsTokens().filter((t) => t.type === 'jwt');
    assert.ok(jwts.length > 0 && jwts.every((t) => t.token === token), 'the Service Bus client put the same token on CBS');
    assert.deepEqual(
      broker.cbsTokens().filter((t) => t.type !== 'jwt'),
      [],
      'no SAS token',
    );
  });
});
