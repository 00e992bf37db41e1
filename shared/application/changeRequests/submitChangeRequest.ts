import { createHash } from 'node:crypto';
import { canonicalJson } from '../../domain/audit';
import type { ChangeRequest, ChangeRequestBody, ValidChangeRequest } from '../../domain/changeRequest';
import { ErrorCode, InvariantError, UnprocessableError } from '../../domain/errors';
import type { TraceContext } from '../../domain/traceContext';
import type { ServiceDependencies } from '../dependencies';
import { admissionOptions, admit } from './admission';
import { changeRequestMessage, destinationFor } from './messages';
import { acceptedRecord } from './settlement';

/** What submitting needs. */
export type SubmitDependencies = Pick<
  ServiceDependencies,
  'admissions' | 'bus' | 'clock' | 'ids' | 'log' | 'mutex' | 'delivery' | 'tracing'
>;

/** Who submitted a request and how to tie its records together. */
export interface Submission {
  request: ChangeRequestBody;
  actor: string;
  correlationId: string;
  /** The caller's Idempotency-Key: a retry with the same key gets the original result. */
  idempotencyKey?: string;
  /** The caller's W3C trace (a valid traceparent header), if it sent one. */
  traceContext?: TraceContext;
}

/** An accepted request, and whether it was accepted by an earlier call with the same Idempotency-Key. */
export interface SubmissionResult {
  changeRequest: ChangeRequest;
  replayed: boolean;
}

/** A digest of the normalized request: the same request, however it was spelled, has the same fingerprint. */
function fingerprintOf(request: ChangeRequestBody): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/**
 * Sends an admitted request's message. A send that fails is not the caller's problem: the request is
 * durably accepted, and the re-driver sends it again when its re-drive time comes.
 */
async function sendChangeRequest(deps: Pick<SubmitDependencies, 'bus' | 'log'>, changeRequest: ValidChangeRequest): Promise<void> {
  try {
    await deps.bus.send(destinationFor(changeRequest.request.operation), changeRequestMessage(changeRequest));
  } catch (error) {
    deps.log.warn('change request left for the re-driver to send', { changeRequestId: changeRequest.id, error: String(error) });
  }
}

/**
 * Accepts a change request: records it as `accepted` with its ticket in its address's waiting list
 * (and its Idempotency-Key), then queues it for the create or delete worker. A retry with the same
 * key gets the original request back; the same key with a different request is refused.
 */
export async function submitChangeRequest(deps: SubmitDependencies, submission: Submission): Promise<SubmissionResult> {
  const now = deps.clock.now();
  const candidate = acceptedRecord({
    id: deps.ids.next(),
    request: submission.request,
    actor: submission.actor,
    correlationId: submission.correlationId,
    // Every request gets a trace: the active span's, the caller's, or a new one; its message and event carry it.
    traceContext: deps.tracing.contextFor(submission.traceContext),
    channel: 'http',
    acceptedAt: now.toISOString(),
  });
  const fingerprint = fingerprintOf(submission.request);
  const idempotency =
    submission.idempotencyKey === undefined
      ? undefined
      : {
          scope: submission.actor,
          key: submission.idempotencyKey,
          fingerprint,
          expiresAt: new Date(now.getTime() + deps.delivery.idempotencyKeyTtlMs).toISOString(),
        };
  const admission = await admit(deps, candidate, admissionOptions(deps, now, idempotency));
  switch (admission.outcome) {
    case 'key-taken':
      if (admission.idempotency.fingerprint !== fingerprint) {
        throw new UnprocessableError(
          ErrorCode.idempotencyKeyReused,
          'this Idempotency-Key was already used with a different request; use a new key for a new request',
          {
            errors: [
              {
                pointer: '#/idempotency-key',
                detail: 'Idempotency-Key must not be reused for a different request body',
                location: 'header',
              },
            ],
          },
        );
      }
      return { changeRequest: admission.idempotency.changeRequest, replayed: true };
    case 'id-taken':
      throw new InvariantError(ErrorCode.invariantBroken, `change request id ${candidate.id} was issued twice`);
    case 'admitted':
      await sendChangeRequest(deps, admission.changeRequest);
      return { changeRequest: admission.changeRequest, replayed: false };
  }
}
