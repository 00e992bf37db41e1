import { ChangeRequestStatus } from '../domain/changeRequest';
import { FailureCode } from '../domain/codes';
import { failChangeRequest, type FailDependencies } from './changeRequests/failChangeRequest';
import { changeRequestMessage, destinationFor } from './changeRequests/messages';
import type { ServiceDependencies } from './dependencies';
import { nextRedriveAt } from './deliveryPolicy';
import { publishPendingEvents } from './publishEvents';

/** What the re-driver needs. */
export type RedriveDependencies = FailDependencies & Pick<ServiceDependencies, 'redrives' | 'admissions' | 'delivery'>;

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
export async function redrive(deps: RedriveDependencies): Promise<RedriveReport> {
  const now = deps.clock.now();
  const report: RedriveReport = { eventsPublished: 0, requestsResent: 0, requestsFailed: 0, idempotencyKeysPurged: 0 };
  report.eventsPublished = await publishPendingEvents(deps, { limit: BATCH, committedBefore: new Date(now.getTime() - OUTBOX_GRACE_MS) });

  for (const entry of await deps.redrives.due(now, BATCH)) {
    const { changeRequest, sends } = entry;
    if (sends >= deps.delivery.maxSends) {
      const reason = { code: FailureCode.undeliverable, message: `the request's message was sent ${sends} times and no worker settled it` };
      if ((await failChangeRequest(deps, changeRequest.id, reason))?.status === ChangeRequestStatus.failed) report.requestsFailed++;
      continue;
    }
    await deps.bus.send(destinationFor(changeRequest.request.operation), changeRequestMessage(changeRequest, sends + 1));
    await deps.redrives.postpone(entry, nextRedriveAt(deps.delivery, now, sends + 1));
    report.requestsResent++;
  }

  report.idempotencyKeysPurged = await deps.admissions.purgeExpiredIdempotencyKeys(now, BATCH);
  return report;
}
