import { AuditAction, type AuditDraft } from '../../domain/audit';
import {
  namesLikelyNewAddress,
  ChangeRequestStatus,
  type ChangeRequest,
  type ChangeRequestBody,
  type ChangeRequestReason,
  type ValidChangeRequest,
} from '../../domain/changeRequest';
import type { RejectionCode } from '../../domain/codes';
import type { Decision, Rejected } from '../../domain/decision';
import { decideCreate, decideDelete } from '../../domain/endpointRules';
import { domainOf } from '../../domain/names';
import { viewOf } from '../decideAndCommit';
import type { DirectoryReads, DirectorySnapshot } from '../ports/directory';
import type { IdGenerator } from '../ports/system';

/** The pieces every use case that settles a change request shares: what to read, how to decide, how to record. */

/** What deciding a request reads: its address (and domain), its pool for a create, and optionally its record and waiting list. */
export function readsForRequest(
  request: ChangeRequestBody,
  also: { changeRequestId?: string; waitingList?: boolean } = {},
): DirectoryReads {
  return {
    domains: [domainOf(request.sipAddress)],
    pools: request.operation === 'create' ? [request.poolFqdn] : [],
    // The rules read the pool's row and the holder of the request's own address, nothing else of the pool.
    poolEndpoints: false,
    addresses: [request.sipAddress],
    changeRequests: also.changeRequestId === undefined ? [] : [also.changeRequestId],
    waitingLists: also.waitingList ? [request.sipAddress] : [],
    likelyFirstTicket: also.waitingList && namesLikelyNewAddress(request) ? [request.sipAddress] : [],
  };
}

/** The endpoint rules' decision on a request, against a snapshot. */
export function decideRequest(
  request: ChangeRequestBody,
  snapshot: DirectorySnapshot,
  now: string,
  changeRequestId: string | null,
): Decision<RejectionCode> {
  const view = viewOf(snapshot);
  return request.operation === 'create' ? decideCreate(request, view, { now, changeRequestId }) : decideDelete(request, view);
}

/** The reason a rule gives for refusing a request, with the field it is about. */
export function reasonOf(decision: Rejected<RejectionCode>): ChangeRequestReason {
  return { code: decision.code, message: decision.message, errors: [{ pointer: `#${decision.pointer}`, detail: decision.message }] };
}

/**
 * A request in its final status. Each settling commit appends exactly one audit record right after
 * the snapshot's head, so the sequence of the record that settles it is known before the commit.
 */
export function settledAs(
  request: ChangeRequest,
  status: ChangeRequestStatus,
  reason: ChangeRequestReason | null,
  snapshot: DirectorySnapshot,
  now: Date,
): ChangeRequest {
  return { ...request, status, reason, completedAt: now.toISOString(), auditSequence: snapshot.head.sequence + 1 };
}

/** The audit action recording a refused request. */
export function rejectionAction(request: ChangeRequestBody): AuditAction {
  return request.operation === 'create' ? AuditAction.endpointCreateRejected : AuditAction.endpointDeleteRejected;
}

/**
 * An audit record about a change request: its actor (and the claim of whom it acted for, only when
 * there is one, so other records hash as before), correlation and causation come from the request.
 */
export function auditDraftFor(
  ids: IdGenerator,
  request: ChangeRequest,
  fields: Pick<AuditDraft, 'action' | 'subject' | 'outcome' | 'before' | 'after'>,
): AuditDraft {
  return {
    id: ids.next(),
    actor: request.actor,
    ...(request.onBehalfOf === undefined ? {} : { onBehalfOf: request.onBehalfOf }),
    changeRequestId: request.id,
    correlationId: request.correlationId,
    causationId: request.id,
    ...fields,
  };
}

/** A fresh `accepted` record of a request, before admission gives it a ticket. */
export function acceptedRecord(
  fields: Pick<ChangeRequest, 'id' | 'actor' | 'onBehalfOf' | 'correlationId' | 'traceContext' | 'channel' | 'acceptedAt'> & {
    request: ChangeRequestBody;
  },
): ValidChangeRequest {
  return { ...fields, status: ChangeRequestStatus.accepted, reason: null, completedAt: null, auditSequence: null, ticket: null };
}
