import { AuditAction } from '../../domain/audit';
import { ChangeRequestStatus, type ChangeRequest } from '../../domain/changeRequest';
import { RejectionCode } from '../../domain/codes';
import type { FieldError } from '../../domain/errors';
import type { TraceContext } from '../../domain/traceContext';
import { decideAndCommit, type CommitDependencies } from '../decideAndCommit';
import type { ServiceDependencies } from '../dependencies';
import { auditDraftFor, settledAs } from './settlement';

/** What recording an invalid message needs. */
export type RecordInvalidDependencies = CommitDependencies & Pick<ServiceDependencies, 'ids'>;

/** A queue message that is not a valid change request. */
export interface InvalidMessage {
  changeRequestId: string;
  /** The SIP address it seems to be about, or the queue it came from. */
  subject: string;
  actor: string;
  /** The message's `actor` claim, when it is itself valid. */
  onBehalfOf?: string;
  correlationId: string;
  /** The message's trace, when its traceparent is valid by itself: the rejection's event continues it. */
  traceContext?: TraceContext;
  errors: FieldError[];
}

/**
 * Records a malformed queue message as a rejected change request (code invalid_message) with its
 * validation errors, audited once however often the message is redelivered.
 */
export async function recordInvalidMessage(deps: RecordInvalidDependencies, message: InvalidMessage): Promise<ChangeRequest> {
  const { result } = await decideAndCommit(deps, { changeRequests: [message.changeRequestId] }, (snapshot, now) => {
    const existing = snapshot.changeRequests.get(message.changeRequestId);
    if (existing) return { plan: null, result: existing };
    const reason = {
      code: RejectionCode.invalidMessage,
      message: 'the queue message is not a valid change request',
      errors: message.errors,
    };
    const unparsed: ChangeRequest = {
      id: message.changeRequestId,
      status: ChangeRequestStatus.accepted,
      request: null,
      reason: null,
      actor: message.actor,
      ...(message.onBehalfOf === undefined ? {} : { onBehalfOf: message.onBehalfOf }),
      correlationId: message.correlationId,
      ...(message.traceContext === undefined ? {} : { traceContext: message.traceContext }),
      channel: 'queue',
      acceptedAt: now.toISOString(),
      completedAt: null,
      auditSequence: null,
      ticket: null,
    };
    const record = settledAs(unparsed, ChangeRequestStatus.rejected, reason, snapshot, now);
    const audit = auditDraftFor(deps.ids, record, {
      action: AuditAction.changeRequestInvalid,
      subject: message.subject,
      outcome: { status: 'rejected', code: reason.code, message: reason.message },
      before: null,
      after: { errors: message.errors },
    });
    return { plan: { writes: [], changeRequests: [record], audit: [audit] }, result: record };
  });
  return result;
}
