import { ChangeRequestStatus, FailureCode } from '../domain/changeRequest';
import { failChangeRequest } from './changeRequests';
import type { Dependencies } from './commitDecision';
import { changeRequestMessage, destinationFor } from './messages';
import { publishPendingEvents } from './publishEvents';
import { nextRedriveAt } from './deliveryPolicy';

/** What one re-drive did. */
export interface RedriveReport {
  eventsPublished: number;
  requestsResent: number;
  requestsFailed: number;
  idempotencyKeysPurged: number;
}

/** The worker that committed an event publishes it at once; the re-driver steps in after this long. */
export const OUTBOX_GRACE_MS = 5_000;
const BATCH = 100;

/**
 * The timer's sweep, so that nothing is left behind by a process that died or a message that was
 * lost: publishes events stuck in the outbox (same event ids, so subscribers and Service Bus
 * duplicate detection drop repeats), re-sends the message of every accepted request still waiting
 * past its re-drive time (applying is idempotent, so a duplicate costs a read), settles as failed a
 * request sent `maxSends` times without effect, and purges expired Idempotency-Keys.
 */
export async function redrive(deps: Dependencies): Promise<RedriveReport> {
  const now = deps.clock.now();
  const report: RedriveReport = { eventsPublished: 0, requestsResent: 0, requestsFailed: 0, idempotencyKeysPurged: 0 };
  report.eventsPublished = await publishPendingEvents(deps, { limit: BATCH, committedBefore: new Date(now.getTime() - OUTBOX_GRACE_MS) });

  for (const pending of await deps.store.dueForRedrive(now, BATCH)) {
    if (pending.sends >= deps.delivery.maxSends) {
      const reason = { code: FailureCode.undeliverable, message: `the request's message was sent ${pending.sends} times and no worker settled it` };
      if ((await failChangeRequest(deps, pending.changeRequest.id, reason))?.status === ChangeRequestStatus.failed) report.requestsFailed++;
      continue;
    }
    const { changeRequest } = pending;
    await deps.bus.send(destinationFor(changeRequest.request.operation), changeRequestMessage(changeRequest, pending.sends + 1));
    await deps.store.rescheduleRedrive(pending, nextRedriveAt(deps.delivery, now, pending.sends + 1));
    report.requestsResent++;
  }

  report.idempotencyKeysPurged = await deps.store.purgeExpiredIdempotencyKeys(now, BATCH);
  return report;
}
