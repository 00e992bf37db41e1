import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '../../shared/application/events';
import { Destination } from '../../shared/application/ports/messageBus';
import { addDirectoryUser, addSipDomain, registerPool, removeSipDomain, retirePool } from '../../shared/application/topology';
import { applyChangeRequest } from '../../shared/application/changeRequests/applyChangeRequest';
import { AuditAction, type AuditRecord } from '../../shared/domain/audit';
import { TopologyCode } from '../../shared/domain/codes';
import { ConflictError, NotFoundError } from '../../shared/domain/errors';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { fqdn, sip } from '../support/builders';
import { newStoreHarness, type StoreHarness } from '../support/storeHarness';

let azurite: TestAzurite;

const admin = { actor: 'operator@contoso.com', correlationId: 'corr-refusals' };

/** contoso.com with pool1.contoso.com, and the endpoint sip:chat@contoso.com on it. */
async function seeded(): Promise<StoreHarness> {
  const h = await newStoreHarness(azurite.connectionString);
  await addSipDomain(h, admin, fqdn('contoso.com'));
  await registerPool(h, admin, fqdn('pool1.contoso.com'), sip('sip:default1@contoso.com'));
  await applyChangeRequest(h, {
    changeRequestId: '0190c0de-0000-7000-8000-00000000c4a7',
    request: { operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pool1.contoso.com') },
    actor: 'queue:endpoint-create',
    correlationId: 'corr-chat',
    channel: 'queue',
  });
  return h;
}

/** The audit records added since `sequence`, oldest first. */
async function auditSince(h: StoreHarness, sequence: number): Promise<AuditRecord[]> {
  return (await h.auditSearch.page({ limit: 100 })).items.filter((r) => r.sequence > sequence).reverse();
}

const headOf = async (h: StoreHarness) => (await h.directory.snapshot({})).head;

const eventsOf = (h: StoreHarness, records: AuditRecord[]) =>
  h.bus.sent
    .filter((s) => s.destination === Destination.auditEvents)
    .map((s) => s.message.body as CloudEvent)
    .filter((e) => records.some((r) => r.id === e.id));

describe('topology refusals on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it('a refusal by a rule (409) commits one audit record, rejected with the code, before = after = the state, and emits its event', async () => {
    const h = await seeded();
    const head = await headOf(h);
    const domain = (await h.directory.snapshot({ domains: [fqdn('contoso.com')] })).domains.get('contoso.com');

    await assert.rejects(removeSipDomain(h, admin, fqdn('contoso.com')), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.equal(error.code, TopologyCode.sipDomainInUse);
      return true;
    });

    const added = await auditSince(h, head.sequence);
    assert.equal(added.length, 1);
    const record = added[0] as AuditRecord;
    assert.deepEqual(
      {
        action: record.action,
        subject: record.subject,
        actor: record.actor,
        correlationId: record.correlationId,
        changeRequestId: record.changeRequestId,
        outcome: record.outcome,
        before: record.before,
        after: record.after,
      },
      {
        action: AuditAction.sipDomainRemoveRejected,
        subject: 'sip-domain:contoso.com',
        actor: admin.actor,
        correlationId: admin.correlationId,
        changeRequestId: null,
        outcome: {
          status: 'rejected',
          code: TopologyCode.sipDomainInUse,
          message: 'contoso.com is in use by an endpoint or directory user; remove those first',
        },
        before: domain,
        after: domain,
      },
    );
    assert.deepEqual(
      eventsOf(h, added).map((e) => [e.type, e.subject, (e.data as AuditRecord).id]),
      [['pchat.sip-domain.remove-rejected.v1', 'sip-domain:contoso.com', record.id]],
    );
    assert.deepEqual(await h.outbox.pending(10), [], 'published, not left in the outbox');
    assert.ok((await h.directory.snapshot({ domains: [fqdn('contoso.com')] })).domains.has('contoso.com'), 'nothing else changed');
  });

  it('audits each kind of 409 under its own action: pool register and retire, directory user add', async () => {
    const h = await seeded();
    const head = await headOf(h);

    const refusals = [
      () => registerPool(h, admin, fqdn('pool1.contoso.com'), sip('sip:other@contoso.com')),
      () => retirePool(h, admin, fqdn('pool1.contoso.com')),
      () => addDirectoryUser(h, admin, sip('sip:chat@contoso.com'), 'Legacy'),
      () => registerPool(h, admin, fqdn('pool2.contoso.com'), sip('sip:chat@contoso.com')),
    ];
    for (const refuse of refusals) await assert.rejects(refuse(), ConflictError);

    assert.deepEqual(
      (await auditSince(h, head.sequence)).map((r) => [r.action, r.subject, r.outcome.status, 'code' in r.outcome ? r.outcome.code : null]),
      [
        [AuditAction.poolRegisterRejected, 'pool:pool1.contoso.com', 'rejected', TopologyCode.poolConflict],
        [AuditAction.poolRetireRejected, 'pool:pool1.contoso.com', 'rejected', TopologyCode.poolHasEndpoint],
        [AuditAction.directoryUserAddRejected, 'sip:chat@contoso.com', 'rejected', TopologyCode.sipAddressInUse],
        [AuditAction.poolRegisterRejected, 'pool:pool2.contoso.com', 'rejected', TopologyCode.sipAddressInUse],
      ],
    );
  });

  it('a refusal because the object does not exist (404) writes nothing', async () => {
    const h = await seeded();
    const head = await headOf(h);

    await assert.rejects(removeSipDomain(h, admin, fqdn('fabrikam.com')), NotFoundError);
    await assert.rejects(retirePool(h, admin, fqdn('nopool.contoso.com')), NotFoundError);

    assert.deepEqual(await headOf(h), head);
  });
});
