import { z } from 'zod';
import { FqdnSchema, SipAddressSchema } from './names';
import type { CANCELED_CODE, FailureCode, RejectionCode } from './codes';
import type { FieldError } from './errors';
import { hasControlCharacter, isWellFormed } from './text';
import type { TraceContext } from './traceContext';

/**
 * The AD display name of a new endpoint contact: optional, 1-256 printable characters of
 * well-formed Unicode (a lone surrogate passes the `u` regex below but breaks UTF-8 and URI encoding).
 */
export const DisplayNameSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .refine(isWellFormed, 'must be well-formed Unicode (no lone surrogate)')
  .refine((value) => !hasControlCharacter(value), 'must not contain control characters or line separators');

/** New-CsPersistentChatEndpoint as a change request. */
export const CreateEndpointRequestSchema = z.strictObject({
  operation: z.literal('create'),
  sipAddress: SipAddressSchema,
  poolFqdn: FqdnSchema,
  displayName: DisplayNameSchema.optional(),
  /** The migration case: the address is held by a directory user that this request replaces. */
  replaceLegacyUser: z.boolean({ error: 'must be true or false' }).optional(),
});
export type CreateEndpointRequest = z.infer<typeof CreateEndpointRequestSchema>;

/** Remove-CsPersistentChatEndpoint as a change request. */
export const DeleteEndpointRequestSchema = z.strictObject({
  operation: z.literal('delete'),
  sipAddress: SipAddressSchema,
});
export type DeleteEndpointRequest = z.infer<typeof DeleteEndpointRequestSchema>;

/** The body of POST /api/change-requests. There is no update: an update is a delete and a create. */
export const ChangeRequestBodySchema = z.discriminatedUnion('operation', [CreateEndpointRequestSchema, DeleteEndpointRequestSchema], {
  error: 'must be "create" or "delete" (there is no update: delete, then create)',
});
export type ChangeRequestBody = z.infer<typeof ChangeRequestBodySchema>;

/**
 * Whether a request most likely names an address never used before: a create does, as a rule, and
 * then holds its address's first ticket. Admission and the writer both act on this guess, and both
 * fall back to reading when it is wrong.
 */
export const namesLikelyNewAddress = (request: ChangeRequestBody): boolean => request.operation === 'create';

/** Where a change request stands. `accepted` always ends in one of the other four, each final. */
export const ChangeRequestStatus = {
  accepted: 'accepted',
  applied: 'applied',
  rejected: 'rejected',
  failed: 'failed',
  /** Withdrawn while still accepted (POST /api/change-requests/{id}/cancel): its message, when it comes, changes nothing. */
  canceled: 'canceled',
} as const;
export type ChangeRequestStatus = (typeof ChangeRequestStatus)[keyof typeof ChangeRequestStatus];

/** Why a change request was rejected, failed or canceled. */
export interface ChangeRequestReason {
  code: RejectionCode | FailureCode | typeof CANCELED_CODE;
  message: string;
  errors?: FieldError[];
}

/** How a change request arrived: over HTTP, or straight onto a queue from automation. */
export type ChangeRequestChannel = 'http' | 'queue';

/** A change request and its status: the record GET /api/change-requests/{id} returns. */
export interface ChangeRequest {
  id: string;
  status: ChangeRequestStatus;
  /** The validated request; null only for a queue message that could not be parsed. */
  request: ChangeRequestBody | null;
  reason: ChangeRequestReason | null;
  /** Who is accountable: the authenticated principal, or for automation the queue it came through (`queue:<name>`). */
  actor: string;
  /**
   * Whom a queue message says it acts for (its `actor` field): a claim nobody authenticated, kept
   * beside the actor, never in its place. Absent when the message named no one.
   */
  onBehalfOf?: string;
  correlationId: string;
  /**
   * The W3C trace the request belongs to, from its submission (or its message): its queue message,
   * every re-sent one and its event carry it. Not in any audit record, so audit hashes are unchanged.
   * Absent on requests accepted before traces were kept.
   */
  traceContext?: TraceContext;
  channel: ChangeRequestChannel;
  acceptedAt: string;
  completedAt: string | null;
  /** The sequence number of the audit record that settled it. */
  auditSequence: number | null;
  /**
   * Its ticket in its SIP address's waiting list, drawn when it was accepted: requests for one address take
   * effect in ticket order, whatever order the transport delivers them in. Null for a queue message
   * that could not be parsed (it names no address).
   */
  ticket: number | null;
}

/** A change request that carries its parsed request: every one but an unparseable queue message's. */
export type ValidChangeRequest = ChangeRequest & { request: ChangeRequestBody };

/** A change request waiting in its address's waiting list: admitted, holding a ticket, not yet settled. */
export type WaitingChangeRequest = ValidChangeRequest & { ticket: number };
