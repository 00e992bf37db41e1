import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { InvocationContext } from '@azure/functions';
import { encodeQueueMessage } from '../../shared/adapters/transportRules';
import { rowKeys } from '../../shared/adapters/tables/rowKeys';
import { uuidv7 } from '../../shared/adapters/system';
import { changeRequestIdForMessage } from '../../shared/application/changeRequests/messages';
import { submitChangeRequest } from '../../shared/application/changeRequests/submitChangeRequest';
import type { CloudEvent } from '../../shared/application/events';
import { Destination } from '../../shared/application/ports/messageBus';
import { redrive } from '../../shared/application/redrive';
import { addSipDomain, registerPool } from '../../shared/application/topology';
import { DEFAULT_DELIVERY_POLICY } from '../../shared/application/deliveryPolicy';
import { AuditAction, type AuditRecord } from '../../shared/domain/audit';
import { ChangeRequestStatus, type ChangeRequestBody } from '../../shared/domain/changeRequest';
import { FailureCode, RejectionCode } from '../../shared/domain/codes';
import {
  endpointChangeQueue,
  handleEndpointChangeMessage,
  type MessageMetadata,
  type Operation,
} from '../../shared/entrypoints/queue/endpointChangeMessages';
import names from '../../shared/names.json';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { fqdn, sip, uniqueLabel } from '../support/builders';
import { newStoreHarness, partitionRows, type StoreHarness } from '../support/storeHarness';

let azurite: TestAzurite;

const admin = { actor: 'admin@contoso.com', correlationId: 'corr-topology' };
const DOMAIN = 'contoso.com';
const POOL = 'pool1.contoso.com';
const LONE = '\ud800';
/** 300 characters of three UTF-8 bytes each: far past the Table key limit once URI-encoded. */
const LONG_MULTIBYTE = '€'.repeat(300);

/** A harness with contoso.com and pool1.contoso.com registered. */
async function seeded(options: Parameters<typeof newStoreHarness>[1] = {}): Promise<StoreHarness> {
  const h = await newStoreHarness(azurite.connectionString, options);
  await addSipDomain(h, admin, fqdn(DOMAIN));
  await registerPool(h, admin, fqdn(POOL), sip(`sip:default1@${DOMAIN}`));
  return h;
}

/** The queue of an operation and a fresh message id on it, as a first delivery. */
function metaFor(operation: Operation): MessageMetadata {
  return { messageId: uuidv7(), queueName: `endpoint-${operation}`, deliveryCount: 1 };
}

/** A valid create message for `user`@contoso.com on pool1, with overrides. */
function createMessage(user: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemaVersion: 1, operation: 'create', sipAddress: `sip:${user}@${DOMAIN}`, poolFqdn: POOL, ...overrides };
}

/** Every audit record, newest first. */
async function allAudit(h: StoreHarness): Promise<AuditRecord[]> {
  return (await h.auditSearch.page({ limit: 1000 })).items;
}

const auditEvents = (h: StoreHarness) =>
  h.bus.sent.filter((s) => s.destination === Destination.auditEvents).map((s) => s.message.body as CloudEvent);

/** Delivers a body on a queue and returns the outcome with the request, its audit records and its dead letters. */
async function deliver(h: StoreHarness, operation: Operation, body: unknown, meta = metaFor(operation)) {
  const outcome = await handleEndpointChangeMessage(h, operation, body, meta);
  const changeRequest = await h.queries.changeRequest(outcome.changeRequestId);
  const audit = (await h.auditSearch.page({ changeRequestId: outcome.changeRequestId, limit: 10 })).items;
  const letters = h.bus.deadLetters.filter((d) => d.letter.messageId === meta.messageId);
  return { outcome, changeRequest, audit, letters, meta };
}

describe('queue messages on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  describe('decoding (host.json messageEncoding none: the entrypoint decodes)', () => {
    it('applies the same request spelled as JSON text, as base64 of UTF-8 JSON, and as the JSON the host already parsed', async () => {
      const h = await seeded();
      const spellings: Array<[string, (body: object) => unknown]> = [
        ['text', (body) => JSON.stringify(body)],
        ['base64', (body) => encodeQueueMessage(body)],
        ['parsed', (body) => body],
        ['bytes', (body) => Buffer.from(JSON.stringify(body), 'utf8')],
      ];
      const statuses = [];
      for (const [name, spell] of spellings) {
        const create = await deliver(h, 'create', spell(createMessage(`spelled-${name}`)));
        statuses.push([name, create.outcome.status]);
        const remove = await deliver(
          h,
          'delete',
          spell({ schemaVersion: 1, operation: 'delete', sipAddress: `sip:spelled-${name}@${DOMAIN}` }),
        );
        statuses.push([name, remove.outcome.status]);
      }
      assert.deepEqual(statuses, [
        ['text', 'applied'],
        ['text', 'applied'],
        ['base64', 'applied'],
        ['base64', 'applied'],
        ['parsed', 'applied'],
        ['parsed', 'applied'],
        ['bytes', 'applied'],
        ['bytes', 'applied'],
      ]);
      assert.deepEqual(h.bus.deadLetters, []);
    });

    const undecodable: Array<[string, string, string]> = [
      ['neither JSON nor base64', 'hello, world!', 'the message must be JSON text, or base64 (padded, RFC 4648) of UTF-8 JSON text'],
      [
        'base64 without its padding',
        encodeQueueMessage({ a: 1 }).replace(/=+$/, ''),
        'the message must be JSON text, or base64 (padded, RFC 4648) of UTF-8 JSON text',
      ],
      [
        'base64 of bytes that are not UTF-8',
        Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'),
        'the message is base64, but the bytes it encodes are not valid UTF-8',
      ],
      [
        'base64 of text that is not JSON',
        Buffer.from('not json', 'utf8').toString('base64'),
        'the message is base64 of UTF-8 text, but that text is not JSON',
      ],
    ];
    for (const [name, text, detail] of undecodable) {
      it(`records a message that is ${name} as rejected invalid_message, audited once, and dead-letters it with the rule`, async () => {
        const h = await seeded();
        const meta = metaFor('create');
        const first = await deliver(h, 'create', text, meta);
        const again = await deliver(h, 'create', text, { ...meta, deliveryCount: 2 });

        const id = changeRequestIdForMessage('endpoint-create', meta.messageId);
        const errors = [{ pointer: '#', detail, location: 'message' }];
        assert.deepEqual(first.outcome, { status: 'dead-lettered', changeRequestId: id, errors });
        assert.deepEqual(
          [first.changeRequest?.status, first.changeRequest?.actor, first.changeRequest?.reason],
          [
            ChangeRequestStatus.rejected,
            'queue:endpoint-create',
            { code: RejectionCode.invalidMessage, message: 'the queue message is not a valid change request', errors },
          ],
        );
        assert.deepEqual(
          again.audit.map((r) => [r.action, r.subject, r.actor, r.outcome]),
          [
            [
              AuditAction.changeRequestInvalid,
              'queue:endpoint-create',
              'queue:endpoint-create',
              { status: 'rejected', code: RejectionCode.invalidMessage, message: 'the queue message is not a valid change request' },
            ],
          ],
          'audited once over two deliveries',
        );
        assert.deepEqual(
          again.letters.map((d) => [d.source, d.letter.reason, d.letter.description, d.letter.original]),
          [
            [Destination.endpointCreate, RejectionCode.invalidMessage, detail, text],
            [Destination.endpointCreate, RejectionCode.invalidMessage, detail, text],
          ],
        );
      });
    }
  });

  describe('hostile envelopes', () => {
    const hostile: Array<[string, (user: string) => Record<string, unknown>, string, 'address' | 'queue']> = [
      ['a lone surrogate in actor', (user) => createMessage(user, { actor: `bot${LONE}` }), '#/actor', 'address'],
      ['a control character in actor', (user) => createMessage(user, { actor: 'bot\u0007' }), '#/actor', 'address'],
      ['300 multibyte characters in actor', (user) => createMessage(user, { actor: LONG_MULTIBYTE }), '#/actor', 'address'],
      ['a lone surrogate in correlationId', (user) => createMessage(user, { correlationId: `c${LONE}` }), '#/correlationId', 'address'],
      [
        '300 multibyte characters in correlationId',
        (user) => createMessage(user, { correlationId: LONG_MULTIBYTE }),
        '#/correlationId',
        'address',
      ],
      ['a lone surrogate in displayName', (user) => createMessage(user, { displayName: `Chat ${LONE}` }), '#/displayName', 'address'],
      [
        'a lone surrogate in sipAddress',
        (user) => createMessage(user, { sipAddress: `sip:${user}${LONE}@${DOMAIN}` }),
        '#/sipAddress',
        'queue',
      ],
      [
        '300 multibyte characters in sipAddress',
        (user) => createMessage(user, { sipAddress: `sip:${LONG_MULTIBYTE}@${DOMAIN}` }),
        '#/sipAddress',
        'queue',
      ],
    ];
    for (const [name, build, pointer, subject] of hostile) {
      it(`refuses ${name} (${pointer}): recorded, audited, dead-lettered, and a later valid request for the address is applied`, async () => {
        const h = await seeded();
        const user = uniqueLabel('hostile');
        const message = build(user);

        const refused = await deliver(h, 'create', encodeQueueMessage(message));
        const later = await deliver(h, 'create', encodeQueueMessage(createMessage(user, { actor: 'provisioning-bot' })));

        assert.equal(refused.outcome.status, 'dead-lettered');
        assert.deepEqual(
          [
            refused.changeRequest?.status,
            refused.changeRequest?.reason?.code,
            refused.changeRequest?.reason?.errors?.map((e) => e.pointer),
          ],
          [ChangeRequestStatus.rejected, RejectionCode.invalidMessage, [pointer]],
        );
        assert.deepEqual(
          refused.audit.map((r) => [r.action, r.subject]),
          [[AuditAction.changeRequestInvalid, subject === 'address' ? `sip:${user}@${DOMAIN}` : 'queue:endpoint-create']],
        );
        assert.deepEqual(
          refused.letters.map((d) => [d.letter.reason, d.letter.errors?.map((e) => (e as { pointer: string }).pointer)]),
          [[RejectionCode.invalidMessage, [pointer]]],
        );
        assert.equal(later.outcome.status, 'applied', 'the refused message holds no place in the address’s waiting list');
        assert.deepEqual((await h.redrives.due(new Date(Date.now() + 3_600_000), 10)).entries, []);
      });
    }

    it('records a message near 64 KiB whose unknown field name is 40,000 characters: its errors clipped, its dead letter an excerpt', async () => {
      const h = await seeded();
      const user = uniqueLabel('huge');
      const hugeName = `${'k'.repeat(40_000)}${LONE}`;
      const manyUnknown = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`extra${i}`, i]));
      const text = encodeQueueMessage(createMessage(user, { [hugeName]: 1, ...manyUnknown }));
      assert.ok(text.length > 50_000 && text.length < 64 * 1024, `a ${text.length}-character message the queue accepts`);

      const refused = await deliver(h, 'create', text);

      assert.equal(refused.changeRequest?.status, ChangeRequestStatus.rejected);
      const errors = refused.changeRequest?.reason?.errors ?? [];
      assert.equal(errors.length, 20, 'at most 20 errors are kept');
      assert.deepEqual(errors[0], {
        pointer: `#/${'k'.repeat(64)}…`,
        detail: `unknown field "${'k'.repeat(64)}…": not part of the contract`,
        location: 'message',
      });
      assert.deepEqual(errors[19], { pointer: '#', detail: 'and 12 more errors', location: 'message' });
      assert.equal(refused.audit.length, 1, 'audited once');
      const [poisoned] = h.bus.received(h.bus.deadLetters[0]?.queue ?? '');
      const letter = poisoned?.body as { original: Record<string, unknown> };
      assert.deepEqual(
        [letter.original.truncated, letter.original.characters, (letter.original.excerpt as string).length],
        [true, text.length, 8 * 1024],
        'the letter carries an excerpt of the original, which no longer fits beside the reason',
      );
    });

    it('never lets an invalid hint break the record: a bad changeRequestId or sipAddress hint falls back to the message id and the queue', async () => {
      const h = await seeded();
      const meta = metaFor('delete');
      const message = { schemaVersion: 2, operation: 'delete', sipAddress: `sip:x${LONE}@${DOMAIN}`, changeRequestId: `not-a-uuid${LONE}` };

      const refused = await deliver(h, 'delete', message, meta);

      assert.equal(refused.outcome.changeRequestId, changeRequestIdForMessage('endpoint-delete', meta.messageId));
      assert.deepEqual(
        refused.audit.map((r) => [r.subject, r.actor, r.correlationId]),
        [['queue:endpoint-delete', 'queue:endpoint-delete', refused.outcome.changeRequestId]],
      );
    });
  });

  describe('the actor of a queue message is a claim', () => {
    it('records the queue as actor and the message’s actor as onBehalfOf, on the request, its audit record and its event', async () => {
      const h = await seeded();
      const correlationId = `corr-${uuidv7()}`;
      const { outcome, changeRequest, audit } = await deliver(
        h,
        'create',
        encodeQueueMessage(createMessage('bot', { actor: 'provisioning-bot', correlationId })),
      );

      assert.equal(outcome.status, 'applied');
      assert.deepEqual(
        [changeRequest?.actor, changeRequest?.onBehalfOf, changeRequest?.correlationId],
        ['queue:endpoint-create', 'provisioning-bot', correlationId],
      );
      assert.deepEqual(
        audit.map((r) => [r.action, r.actor, r.onBehalfOf]),
        [[AuditAction.endpointCreated, 'queue:endpoint-create', 'provisioning-bot']],
      );
      const event = auditEvents(h).find((e) => e.id === audit[0]?.id);
      const data = event?.data as AuditRecord | undefined;
      assert.deepEqual([data?.actor, data?.onBehalfOf], ['queue:endpoint-create', 'provisioning-bot']);
      // Auditors find what automation claimed by its claim, alone or beside another filter.
      const claimed = await h.auditSearch.page({ onBehalfOf: 'provisioning-bot', limit: 10 });
      const claimedAndCorrelated = await h.auditSearch.page({ onBehalfOf: 'provisioning-bot', correlationId, limit: 10 });
      assert.deepEqual(claimed.items, audit);
      assert.deepEqual(claimedAndCorrelated.items, audit);
      assert.deepEqual((await h.auditSearch.page({ onBehalfOf: 'someone-else', correlationId, limit: 10 })).items, []);
    });

    it('keeps the admitted record of a request submitted over HTTP: a message naming it with another actor changes nothing', async () => {
      const h = await seeded();
      const { changeRequest: admitted } = await submitChangeRequest(h, {
        request: { operation: 'create', sipAddress: sip(`sip:owned@${DOMAIN}`), poolFqdn: fqdn(POOL) },
        actor: 'alice@contoso.com',
        correlationId: 'corr-alice',
      });
      const forged = createMessage('owned', { changeRequestId: admitted.id, actor: 'mallory', correlationId: 'corr-mallory' });

      const { outcome, changeRequest, audit } = await deliver(h, 'create', encodeQueueMessage(forged));

      assert.equal(outcome.status, 'applied');
      assert.deepEqual(
        [changeRequest?.actor, changeRequest?.onBehalfOf, changeRequest?.correlationId, changeRequest?.channel],
        ['alice@contoso.com', undefined, 'corr-alice', 'http'],
      );
      assert.deepEqual(
        audit.map((r) => [r.actor, r.correlationId, Object.hasOwn(r, 'onBehalfOf')]),
        [['alice@contoso.com', 'corr-alice', false]],
      );
    });

    it('a message without an actor records none: no onBehalfOf on the request or its audit record', async () => {
      const h = await seeded();
      const { changeRequest, audit } = await deliver(h, 'create', encodeQueueMessage(createMessage('quiet')));

      assert.deepEqual([changeRequest?.actor, Object.hasOwn(changeRequest ?? {}, 'onBehalfOf')], ['queue:endpoint-create', false]);
      assert.deepEqual(
        audit.map((r) => [r.actor, Object.hasOwn(r, 'onBehalfOf')]),
        [['queue:endpoint-create', false]],
      );
    });
  });

  describe('a Service Bus delivery (the metadata a serviceBusQueue trigger hands the function)', () => {
    /**
     * The context the Node worker (@azure/functions 4.16.5) builds for a Service Bus-triggered
     * invocation: the host's binding data with camelCased keys. Service Bus counts deliveries in
     * `deliveryCount` and names the message `messageId`; there is no `dequeueCount` or `id` (those
     * are a Storage queue's), so a handler reading only those would never see a last delivery.
     */
    function serviceBusContext(messageId: string, deliveryCount: number): InvocationContext {
      const now = new Date();
      return new InvocationContext({
        invocationId: uuidv7(),
        functionName: 'applyEndpointCreate',
        triggerMetadata: {
          messageId,
          deliveryCount,
          sequenceNumber: 42,
          lockToken: uuidv7(),
          enqueuedTimeUtc: now.toISOString(),
          expiresAtUtc: new Date(now.getTime() + 14 * 86_400_000).toISOString(),
          contentType: 'application/json',
          correlationId: 'corr-bus',
          applicationProperties: {},
        },
      });
    }

    it('settles the request failed on the last of MAX_DELIVERY_COUNT deliveries, counted by deliveryCount, and not before', async () => {
      const h = await seeded();
      const address = `sip:bus-doomed-${uniqueLabel('')}@${DOMAIN}`;
      // Every commit that would put the endpoint in place fails, as if storage refused that one write.
      const deps = {
        ...h,
        directory: {
          snapshot: h.directory.snapshot.bind(h.directory),
          fits: h.directory.fits.bind(h.directory),
          commit: async (change: Parameters<StoreHarness['directory']['commit']>[0]) => {
            if (change.writes.some((write) => write.type === 'putHolder' && write.holder.sipAddress === address))
              throw new Error('simulated storage fault');
            return h.directory.commit(change);
          },
        },
      };
      const queue = names.queues.endpointCreate;
      const handle = endpointChangeQueue('create', queue);
      const messageId = uuidv7();
      const body = { schemaVersion: 1, operation: 'create', sipAddress: address, poolFqdn: POOL };
      const changeRequestId = changeRequestIdForMessage(queue, messageId);
      assert.equal(deps.delivery.maxDeliveries, names.delivery.maxDeliveryCount);

      const statuses: unknown[] = [];
      for (let delivery = 1; delivery <= names.delivery.maxDeliveryCount; delivery++) {
        await assert.rejects(handle(deps, body, serviceBusContext(messageId, delivery)), /simulated storage fault/);
        statuses.push((await h.queries.changeRequest(changeRequestId))?.status);
      }

      assert.deepEqual(statuses, ['accepted', 'accepted', 'accepted', 'accepted', 'failed']);
      const failed = await h.queries.changeRequest(changeRequestId);
      assert.deepEqual(failed?.reason, {
        code: FailureCode.processingFailed,
        message: `processing failed on all 5 deliveries of the message, which was set aside for operators (${queue} poison / dead-letter queue)`,
      });
      const audit = (await h.auditSearch.page({ changeRequestId, limit: 10 })).items;
      assert.deepEqual(
        audit.map((r) => [r.action, r.actor]),
        [[AuditAction.changeRequestFailed, `queue:${queue}`]],
      );
    });
  });

  describe('the re-driver with bad rows', () => {
    it('re-sends the good entries, fails and audits the bad ones, and its next run is clean', async () => {
      const h = await seeded();
      const submit = async (user: string) => {
        const { changeRequest } = await submitChangeRequest(h, {
          request: { operation: 'delete', sipAddress: sip(`sip:${user}@${DOMAIN}`) },
          actor: 'alice@contoso.com',
          correlationId: `corr-${user}`,
        });
        return { ...changeRequest, request: changeRequest.request as ChangeRequestBody, ticket: changeRequest.ticket as number };
      };
      const good = [await submit('good1'), await submit('good2')];
      const mangled = await submit('mangled');
      const due = new Date(Date.now() + DEFAULT_DELIVERY_POLICY.redriveAfterMs + 1000).toISOString();
      const earlier = new Date(Date.now() - 1000).toISOString();
      // Next to the good rows: one whose value is not JSON at all, and the mangled request's own row with its request cut out.
      const garbageKey = 'pending|contoso.com|garbage|000000000000001';
      await h.table.createEntity({ partitionKey: 'default', rowKey: garbageKey, data: '{"changeRequest":', redriveAt: earlier, sends: 1 });
      const mangledKey = rowKeys.waiting(mangled.request.sipAddress, mangled.ticket);
      const { changeRequest: _cut, ...rest } = { changeRequest: mangled, redriveAt: earlier, sends: 1 };
      await h.table.updateEntity(
        {
          partitionKey: 'default',
          rowKey: mangledKey,
          data: JSON.stringify({ ...rest, changeRequest: { id: mangled.id } }),
          redriveAt: earlier,
          sends: 1,
        },
        'Replace',
      );
      const auditBefore = (await allAudit(h)).length;

      const later = { ...h, clock: { now: () => new Date(due) } };
      const first = await redrive(later);
      const second = await redrive(later);

      assert.deepEqual(first, { eventsPublished: 0, requestsResent: 2, requestsFailed: 1, badEntries: 2, idempotencyKeysPurged: 0 });
      assert.deepEqual(second, { eventsPublished: 0, requestsResent: 0, requestsFailed: 0, badEntries: 0, idempotencyKeysPurged: 0 });
      assert.deepEqual(
        h.bus.sent
          .filter((s) => s.destination === Destination.endpointDelete && s.message.messageId?.endsWith('.2'))
          .map((s) => s.message.messageId),
        good.map((r) => `${r.id}.2`),
      );
      const failed = await h.queries.changeRequest(mangled.id);
      assert.deepEqual([failed?.status, failed?.reason?.code], [ChangeRequestStatus.failed, FailureCode.redriveFailed]);
      const log = await allAudit(h);
      const added = log.slice(0, log.length - auditBefore);
      assert.deepEqual(
        added.map((r) => [r.action, r.subject, r.changeRequestId, r.outcome.status, 'code' in r.outcome ? r.outcome.code : null]).sort(),
        [
          [AuditAction.changeRequestFailed, mangled.request.sipAddress, mangled.id, 'failed', FailureCode.redriveFailed],
          [AuditAction.redriveEntryDiscarded, `redrive:${garbageKey}`, null, 'failed', FailureCode.redriveFailed],
        ].sort(),
      );
      const pendingKeys = (await partitionRows(h.table, 'default')).map((row) => row.rowKey).filter((key) => key?.startsWith('pending|'));
      assert.deepEqual(pendingKeys.sort(), good.map((r) => rowKeys.waiting(r.request.sipAddress, r.ticket)).sort());
      assert.ok(h.log.warnings.includes('unreadable re-drive entry'));
    });

    it('an entry whose re-send throws on a bug is failed and audited, and the others are still re-sent', async () => {
      const h = await seeded();
      const submit = (user: string) =>
        submitChangeRequest(h, {
          request: { operation: 'delete', sipAddress: sip(`sip:${user}@${DOMAIN}`) },
          actor: 'alice@contoso.com',
          correlationId: `corr-${user}`,
        });
      const first = (await submit('first')).changeRequest;
      const second = (await submit('second')).changeRequest;
      h.bus.failNext(new TypeError('a bug in the transport'));

      const report = await redrive({ ...h, clock: { now: () => new Date(Date.now() + DEFAULT_DELIVERY_POLICY.redriveAfterMs + 1000) } });

      assert.deepEqual([report.requestsResent, report.requestsFailed, report.badEntries], [1, 1, 1]);
      const settled = [await h.queries.changeRequest(first.id), await h.queries.changeRequest(second.id)];
      assert.deepEqual(
        settled.map((r) => [r?.status, r?.reason?.code ?? null]),
        [
          [ChangeRequestStatus.failed, FailureCode.redriveFailed],
          [ChangeRequestStatus.accepted, null],
        ],
      );
      const [record] = (await h.auditSearch.page({ changeRequestId: first.id, limit: 10 })).items;
      assert.deepEqual([record?.action, record?.outcome.status], [AuditAction.changeRequestFailed, 'failed']);
    });
  });
});
