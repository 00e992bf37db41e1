import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { changeRequestIdForMessage } from '../../shared/application/changeRequests/messages';
import { redrive } from '../../shared/application/redrive';
import { aTopology, submitAndSettle } from '../support/apiData';
import { clip, credentialFor } from '../support/hostileHttp';
import { hostileMessageArb, QUEUES, type HostileMessage, type QueueName, type QueueWorld } from '../support/hostileQueue';
import { HostileReport, hostileSettings } from '../support/hostileReport';
import { startWatchdog, type Watchdog } from '../support/hostileWatchdog';
import { apiClient, APP_ROOT, eventually, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

/**
 * The hostile input suite on the queues (issue 9): at least 500 raw messages (HOSTILE_QUEUE_RUNS),
 * seeded (HOSTILE_SEED; message i is generated from seed + i), put straight onto the Azurite
 * endpoint-create / endpoint-delete queues. Every message must end recorded: a change request with
 * a final status and one audit record, and an invalid one on `<queue>-poison` with its reason. After
 * them, a valid request for each address they aimed at is applied; the re-driver still runs; the
 * host still serves. Figures: test-results/hostile-queue.json.
 *
 * Messages are checked together after they settle (the workers run concurrently, with retries), so
 * instead of shrinking, a failure names the smallest message of its kind and its index (replay:
 * HOSTILE_SEED=<seed> regenerates message i from seed + i).
 */

// The re-driver should meet a stuck request during this run, and settle it as undeliverable within
// ~15 s (sends after 2, 4 and 8 s), not after minutes.
process.env.REDRIVE_AFTER_SECONDS = '2';
process.env.REDRIVE_MAX_SENDS = '3';

const settings = hostileSettings();
const report = new HostileReport('hostile queue messages', settings.seed, 'slowest to settle');
const FINAL = new Set(['applied', 'rejected', 'failed']);
let env: E2EEnvironment;
let watchdog: Watchdog;
let world: QueueWorld;
/** Pools kept free for the valid request sent after the hostile ones, one per victim address. */
let followUpPools: string[];
let startedAt = 0;

const call: ApiCall = (method, path, body, headers = {}) =>
  apiClient(env.baseUrl)(method, path, body, { ...credentialFor(env, 'all'), ...headers });

/** A message on its way: what was sent, under which message id, and the change request it must become. */
interface Sent {
  index: number;
  message: HostileMessage;
  messageId: string;
  changeRequestId: string;
  sentAt: number;
}

/** Puts a message's exact text on its queue. */
async function put(queue: QueueName, text: string): Promise<string> {
  const client = env.queues.getQueueClient(queue);
  await client.createIfNotExists();
  return (await client.sendMessage(text)).messageId;
}

/** Every letter on a poison queue: JSON letters by the message id they name, and the raw texts of messages the host moved there. */
async function drainPoison(queue: QueueName): Promise<{ letters: Map<string, Record<string, unknown>>; raw: Set<string> }> {
  const client = env.queues.getQueueClient(`${queue}-poison`);
  const letters = new Map<string, Record<string, unknown>>();
  const raw = new Set<string>();
  if (!(await client.exists())) return { letters, raw };
  for (;;) {
    const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
    if (receivedMessageItems.length === 0) return { letters, raw };
    for (const item of receivedMessageItems) {
      raw.add(item.messageText);
      try {
        const letter = JSON.parse(Buffer.from(item.messageText, 'base64').toString('utf8')) as Record<string, unknown>;
        if (typeof letter.messageId === 'string') letters.set(letter.messageId, letter);
      } catch {
        // Moved by the host as it was: no letter, only the raw text.
      }
    }
  }
}

/** How long nothing may settle before the suite stops waiting (retries take ~5 s, the re-driver's three sends ~15 s). */
const STALL_MS = 30_000;

/**
 * Waits until every sent message's change request is final, or nothing has settled for STALL_MS, or
 * the deadline passes; resolves with the final statuses seen.
 */
async function settle(sent: Sent[], deadlineMs: number): Promise<Map<string, { status: string; at: number; reason?: unknown }>> {
  const settled = new Map<string, { status: string; at: number; reason?: unknown }>();
  const deadline = performance.now() + deadlineMs;
  let lastProgress = performance.now();
  while (performance.now() < deadline && performance.now() - lastProgress < STALL_MS) {
    for (const { changeRequestId } of sent) {
      if (settled.has(changeRequestId)) continue;
      const found = await env.dependencies.queries.changeRequest(changeRequestId);
      if (found && FINAL.has(found.status)) {
        settled.set(changeRequestId, { status: found.status, at: performance.now(), reason: found.reason });
        lastProgress = performance.now();
      }
    }
    if (settled.size === new Set(sent.map((s) => s.changeRequestId)).size) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return settled;
}

/** Failures by kind, keeping the smallest message of each. */
class Failures {
  private readonly byKind = new Map<string, { count: number; example: string; size: number }>();

  add(property: string, sent: Sent, detail: string): void {
    const kind = `${property} [${sent.message.kind}]`;
    const known = this.byKind.get(kind);
    const size = sent.message.text.length;
    const example = `message ${sent.index} on ${sent.message.queue} (id ${sent.messageId}, change request ${sent.changeRequestId}): ${JSON.stringify(clip(sent.message.text, 200))} decoded ${JSON.stringify(clip(decoded(sent.message.text), 300))}: ${detail}`;
    this.byKind.set(kind, {
      count: (known?.count ?? 0) + 1,
      ...(known && known.size <= size ? { example: known.example, size: known.size } : { example, size }),
    });
  }

  lines(): string[] {
    return [...this.byKind].map(([kind, { count, example }]) => `${kind}: ${count} message(s), e.g. ${example}`);
  }
}

/** A message text as the worker would read it (base64 decoded when it is base64). */
function decoded(text: string): string {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0 ? Buffer.from(text, 'base64').toString('utf8') : text;
}

describe('hostile messages on the change-request queues', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false });
    watchdog = startWatchdog();
    const topology = await aTopology(call, { pools: 6, users: ['ocschat'] });
    world = {
      domain: topology.domain,
      pools: topology.pools.slice(0, 3),
      victims: ['victim1', 'victim2', 'victim3'].map((user) => topology.address(user)),
      users: topology.users,
    };
    followUpPools = topology.pools.slice(3);
    console.log(`hostile queue messages: seed ${settings.seed} (HOSTILE_SEED), ${settings.queueRuns} messages (HOSTILE_QUEUE_RUNS)`);
  });
  after(async () => {
    report.print('hostile-queue.json');
    // The host's own log beside the figures, for whoever replays a failing seed.
    if (env) writeFileSync(path.join(APP_ROOT, 'test-results', 'hostile-queue-host.log'), `${env.logs.join('\n')}\n`);
    await watchdog?.stop();
    await env?.stop();
  });

  it(`records every one of ${settings.queueRuns} hostile messages: final status, audited once, invalid ones dead-lettered with a reason`, async () => {
    const sent: Sent[] = [];
    let refusedByStorage = 0;
    startedAt = Date.now();
    for (let index = 0; index < settings.queueRuns; index++) {
      const [message] = fc.sample(hostileMessageArb(world, settings.seed, index), { seed: settings.seed + index, numRuns: 1 });
      assert.ok(message);
      watchdog.inFlight(`seed ${settings.seed}, message ${index}: ${message.kind} ${clip(message.text, 300)}`);
      let messageId: string;
      try {
        messageId = await put(message.queue, message.text);
      } catch {
        refusedByStorage++; // The Storage service refused it (too large for a queue message): nothing to record.
        continue;
      }
      const changeRequestId = message.changeRequestId ?? changeRequestIdForMessage(message.queue, messageId);
      sent.push({ index, message, messageId, changeRequestId, sentAt: performance.now() });
    }

    const settled = await settle(sent, Math.max(120_000, settings.queueRuns * 300));
    const poison = new Map(await Promise.all(QUEUES.map(async (queue) => [queue, await drainPoison(queue)] as const)));
    const failures = new Failures();
    for (const one of sent) {
      const outcome = settled.get(one.changeRequestId);
      const stored = outcome ? undefined : await env.dependencies.queries.changeRequest(one.changeRequestId);
      const status = outcome?.status ?? (stored ? stored.status : 'no record');
      report.observe({
        route: `${one.message.queue} ${one.message.kind}`,
        status,
        ms: (outcome?.at ?? performance.now()) - one.sentAt,
        refusalWithoutPointer: false,
        refusedWrites: 0,
        describe: () => `message ${one.index}: ${clip(decoded(one.message.text), 200)}`,
      });
      if (!outcome) {
        failures.add(`ends with a final status (applied, rejected or failed), not ${status}`, one, `status ${status}`);
        continue;
      }
      const reason = outcome.reason as { code?: string } | null | undefined;
      const audited = await env.dependencies.auditSearch.page({ changeRequestId: one.changeRequestId, limit: 10 });
      if (audited.items.length !== 1) failures.add('is audited once', one, `${audited.items.length} audit records`);
      const invalid = outcome.status === 'rejected' && reason?.code === 'invalid_message';
      if (one.message.expect === 'invalid' && !invalid)
        failures.add('an invalid message is rejected as invalid_message', one, `${outcome.status} ${JSON.stringify(reason)}`);
      const letter = poison.get(one.message.queue)?.letters.get(one.messageId);
      if ((invalid || one.message.expect === 'invalid') && !(typeof letter?.reason === 'string' && letter.reason !== ''))
        failures.add(
          'an invalid message is on <queue>-poison with its reason',
          one,
          letter ? `letter without a reason: ${clip(JSON.stringify(letter))}` : 'no letter',
        );
    }
    const lines = failures.lines();
    for (const line of lines) report.fail(`${line} (seed ${settings.seed})`);
    console.log(
      `hostile queue messages: ${sent.length} sent, ${refusedByStorage} refused by the Storage service, ${settled.size} settled in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    assert.deepEqual(lines, []);
  });

  it('applies a valid request for each address the hostile messages aimed at, sent after them', async () => {
    const followUps: Array<{ victim: string; id: string }> = [];
    for (const [i, victim] of world.victims.entries()) {
      const holder = await env.dependencies.queries.holder(victim as never);
      const id = changeRequestIdForMessage('hostile-follow-up', `${settings.seed}-${victim}`);
      const body =
        holder?.kind === 'endpoint'
          ? { schemaVersion: 1, operation: 'delete', sipAddress: victim, changeRequestId: id, actor: 'provisioning-bot' }
          : {
              schemaVersion: 1,
              operation: 'create',
              sipAddress: victim,
              poolFqdn: followUpPools[i],
              changeRequestId: id,
              actor: 'provisioning-bot',
            };
      await put(body.operation === 'create' ? 'endpoint-create' : 'endpoint-delete', Buffer.from(JSON.stringify(body)).toString('base64'));
      followUps.push({ victim, id });
    }
    const outcomes = await Promise.all(
      followUps.map(async ({ victim, id }) => {
        try {
          const settled = await eventually(async () => {
            const found = await env.dependencies.queries.changeRequest(id);
            return found && FINAL.has(found.status) ? found : undefined;
          }, 30_000);
          return `${victim}: ${settled.status}${settled.reason ? ` ${JSON.stringify(settled.reason)}` : ''}`;
        } catch {
          return `${victim}: ${(await env.dependencies.queries.changeRequest(id))?.status ?? 'not admitted'} after 30 s`;
        }
      }),
    );
    assert.deepEqual(
      outcomes,
      followUps.map(({ victim }) => `${victim}: applied`),
    );
  });

  it('keeps the re-driver running: its timer has not failed, and a sweep now succeeds', async () => {
    const failedRuns = env.logs.filter((line) => /\[redrive\] timer run failed/.test(line));
    assert.deepEqual(failedRuns.slice(0, 3), [], `${failedRuns.length} failed re-drive runs`);
    await assert.doesNotReject(redrive(env.dependencies));
  });

  it('keeps serving: a normal request is answered and applied after the hostile messages', async () => {
    const fresh = await aTopology(call);
    const settled = await submitAndSettle(call, {
      operation: 'create',
      sipAddress: fresh.address('after-hostile'),
      poolFqdn: fresh.pool(0),
    });
    assert.equal(settled.status, 'applied', JSON.stringify(settled.reason));
  });
});
