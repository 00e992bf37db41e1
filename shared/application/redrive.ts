import { AuditAction, type AuditDraft } from '../domain/audit';
import { ChangeRequestStatus } from '../domain/changeRequest';
import { FailureCode } from '../domain/codes';
import { ConcurrencyError, UnavailableError } from '../domain/errors';
import { failChangeRequest, type FailDependencies } from './changeRequests/failChangeRequest';
import { changeRequestMessage, destinationFor } from './changeRequests/messages';
import { decideAndCommit } from './decideAndCommit';
import type { ServiceDependencies } from './dependencies';
import { nextRedriveAt } from './deliveryPolicy';
import type { ScheduledRedrive, UnreadableRedrive } from './ports/redriveSchedule';
import { publishPendingEvents } from './publishEvents';

/** What the re-driver needs. */
export type RedriveDependencies = FailDependencies & Pick<ServiceDependencies, 'redrives' | 'admissions' | 'delivery'>;

/** What one re-drive did. */
export interface RedriveReport {
  eventsPublished: number;
  requestsResent: number;
  /** Requests settled as failed: sent too often without effect, or their entry could not be handled. */
  requestsFailed: number;
  /** Due entries that threw or could not be read; each was failed (or discarded) and logged, and the rest went on. */
  badEntries: number;
  idempotencyKeysPurged: number;
}

/** The worker that committed an event publishes it at once; the re-driver steps in after this long. */
export const OUTBOX_GRACE_MS = 5_000;
const BATCH = 100;
/** The actor of what the re-driver records on its own (no request, no caller behind it). */
const REDRIVER = 'system:redrive';

/** Storage or the bus away, or another writer first: worth the next run, never a reason to fail a request. */
const isTransient = (error: unknown) => error instanceof UnavailableError || error instanceof ConcurrencyError;

/** Re-sends one due request's message, or settles it as failed once it was sent `maxSends` times. */
async function redriveEntry(deps: RedriveDependencies, entry: ScheduledRedrive, now: Date): Promise<'resent' | 'failed' | 'none'> {
  const { changeRequest, sends } = entry;
  if (sends >= deps.delivery.maxSends) {
    const reason = { code: FailureCode.undeliverable, message: `the request's message was sent ${sends} times and no worker settled it` };
    return (await failChangeRequest(deps, changeRequest.id, reason))?.status === ChangeRequestStatus.failed ? 'failed' : 'none';
  }
  await deps.bus.send(destinationFor(changeRequest.request.operation), changeRequestMessage(changeRequest, sends + 1));
  await deps.redrives.postpone(entry, nextRedriveAt(deps.delivery, now, sends + 1));
  return 'resent';
}

/**
 * A due request whose handling threw on something other than an outage (bad data, a bug): settled
 * as failed with the reason, audited, so it stops holding up its address and every later run.
 * Resolves whether it was failed; if even that throws, it is logged and left for the next run.
 */
async function failBadEntry(deps: RedriveDependencies, changeRequestId: string, problem: string): Promise<boolean> {
  const reason = { code: FailureCode.redriveFailed, message: `the re-driver could not handle the request: ${problem}` };
  try {
    return (await failChangeRequest(deps, changeRequestId, reason))?.status === ChangeRequestStatus.failed;
  } catch (error) {
    if (isTransient(error)) throw error;
    deps.log.warn('could not fail a request the re-driver cannot handle', { changeRequestId, error: String(error) });
    return false;
  }
}

/** The audit record of an unreadable entry taken out of the schedule without a request to fail. */
function discardAudit(deps: RedriveDependencies, unreadable: UnreadableRedrive, problem: string): AuditDraft {
  return {
    id: deps.ids.next(),
    actor: REDRIVER,
    action: AuditAction.redriveEntryDiscarded,
    subject: `redrive:${unreadable.id}`,
    changeRequestId: unreadable.changeRequestId,
    correlationId: unreadable.changeRequestId ?? deps.ids.next(),
    causationId: null,
    outcome: { status: 'failed', code: FailureCode.redriveFailed, message: `the re-driver discarded an entry: ${problem}` },
    before: unreadable,
    after: null,
  };
}

/**
 * An entry that cannot even be read. When it still names its request, that request is failed,
 * audited; otherwise the discard itself is audited. Either way the entry is then taken out, so it
 * no longer blocks its address's waiting list or the re-driver. Resolves whether a request was failed.
 */
async function handleUnreadable(deps: RedriveDependencies, unreadable: UnreadableRedrive): Promise<boolean> {
  deps.log.warn('unreadable re-drive entry', { ...unreadable });
  const problem = `its waiting-list entry is unreadable (${unreadable.problem})`;
  const failed = unreadable.changeRequestId !== null && (await failBadEntry(deps, unreadable.changeRequestId, problem));
  if (!failed)
    await decideAndCommit(deps, {}, () => ({
      plan: { writes: [], changeRequests: [], audit: [discardAudit(deps, unreadable, problem)] },
      result: undefined,
    }));
  // Audited first: a run that dies here finds the entry again and audits it once more, never loses it silently.
  await deps.redrives.discard(unreadable.id);
  return failed;
}

/**
 * The timer's sweep, so that nothing is left behind by a process that died or a message that was
 * lost: publishes events stuck in the outbox (same event ids, so subscribers and Service Bus
 * duplicate detection drop repeats), re-sends the message of every accepted request still waiting
 * past its re-drive time (applying is idempotent, so a duplicate costs a read), settles as failed a
 * request sent `maxSends` times without effect, and purges expired Idempotency-Keys.
 *
 * Each due entry is handled on its own: one that throws (other than on an outage, which ends the
 * run for the next one to retry) or cannot be read is failed, audited and logged, and the rest
 * proceed, so one bad row never stops the re-driver.
 */
export async function redrive(deps: RedriveDependencies): Promise<RedriveReport> {
  const now = deps.clock.now();
  const report: RedriveReport = { eventsPublished: 0, requestsResent: 0, requestsFailed: 0, badEntries: 0, idempotencyKeysPurged: 0 };
  report.eventsPublished = await publishPendingEvents(deps, { limit: BATCH, committedBefore: new Date(now.getTime() - OUTBOX_GRACE_MS) });

  const due = await deps.redrives.due(now, BATCH);
  for (const entry of due.entries) {
    try {
      const done = await redriveEntry(deps, entry, now);
      if (done === 'resent') report.requestsResent++;
      if (done === 'failed') report.requestsFailed++;
    } catch (error) {
      if (isTransient(error)) throw error;
      report.badEntries++;
      deps.log.warn('re-drive of a request failed', { changeRequestId: entry.changeRequest.id, error: String(error) });
      if (await failBadEntry(deps, entry.changeRequest.id, String(error))) report.requestsFailed++;
    }
  }
  for (const unreadable of due.unreadable) {
    report.badEntries++;
    try {
      if (await handleUnreadable(deps, unreadable)) report.requestsFailed++;
    } catch (error) {
      if (isTransient(error)) throw error;
      deps.log.warn('could not take an unreadable re-drive entry out', { id: unreadable.id, error: String(error) });
    }
  }

  report.idempotencyKeysPurged = await deps.admissions.purgeExpiredIdempotencyKeys(now, BATCH);
  return report;
}
