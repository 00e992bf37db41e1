import type { ConnectionIdentity } from '../../shared/settings';
import { createServiceBusClient } from '../../shared/composition/clients';
import { compose, silentLogger } from '../../shared/composition/compose';
import { parseSettings } from '../../shared/settings';
import { fixedTokenCredential } from './fixedTokenCredential';

/**
 * Test tooling, run as its own process by test/integration/identityConnections.test.ts: composes
 * the service from this process's environment (identity-based settings only) with a credential that
 * issues PROBE_TOKEN, makes one table call and one queue call through the composition, and one
 * Service Bus send through clients.ts, then prints what it did as one JSON line.
 *
 * Its own process because the stand-ins serve TLS with a certificate made for the test run, which
 * Node trusts only through NODE_EXTRA_CA_CERTS, read at process start.
 */
async function main(): Promise<void> {
  const credential = fixedTokenCredential(process.env.PROBE_TOKEN ?? '');
  const askedFor: ConnectionIdentity[] = [];
  const credentialFor = (connection: ConnectionIdentity) => {
    askedFor.push(connection);
    return credential;
  };
  const settings = parseSettings(process.env);

  const composition = await compose(settings, silentLogger, { credentialFor });
  try {
    const empty = await composition.queries.isEmpty();
    await composition.bus.send('endpointCreate', { messageId: 'probe-1', body: { probe: 1 }, contentType: 'application/json' });

    const serviceBus = createServiceBusClient(settings.serviceBus as NonNullable<typeof settings.serviceBus>, credentialFor);
    const sender = serviceBus.createSender('endpoint-create');
    await sender.sendMessages({ body: { probe: 2 }, messageId: 'probe-2' });
    await sender.close();
    await serviceBus.close();

    console.log(JSON.stringify({ storage: settings.storage, serviceBus: settings.serviceBus, askedFor, scopes: credential.scopes, empty }));
  } finally {
    await composition.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error((error as Error)?.stack ?? error);
    process.exit(1);
  },
);
