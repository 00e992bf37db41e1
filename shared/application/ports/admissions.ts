import type { ChangeRequest, ValidChangeRequest, WaitingChangeRequest } from '../../domain/changeRequest';

/** An Idempotency-Key as stored: whose it is, which request body it was first used with, and what that admitted. */
export interface IdempotencyRecord {
  /** The caller the key belongs to: keys of different callers never collide. */
  scope: string;
  key: string;
  /** A digest of the normalized request the key was first used with. */
  fingerprint: string;
  changeRequest: ChangeRequest;
  expiresAt: string;
}

/** How an admission ended: admitted with a ticket, or an earlier admission already holds the id or the key. */
export type Admission =
  | { outcome: 'admitted'; changeRequest: WaitingChangeRequest }
  | { outcome: 'id-taken'; changeRequest: ChangeRequest }
  | { outcome: 'key-taken'; idempotency: IdempotencyRecord };

/** What admitting a change request records besides the request itself. */
export interface AdmissionOptions {
  now: Date;
  /** When the re-driver first sends the message again if nothing settled the request by then. */
  redriveAt: Date;
  /** The caller's Idempotency-Key, recorded in the same step; an unexpired one already held wins. */
  idempotency?: Omit<IdempotencyRecord, 'changeRequest'>;
}

/**
 * Admission: a change request becomes durable (status `accepted`) with the next ticket in its SIP
 * address's waiting list, its re-drive schedule and its Idempotency-Key, in one atomic step.
 */
export interface Admissions {
  /**
   * One attempt to admit. Throws ConcurrencyError when another admission of the same address or key
   * won the race (the caller tries again); returns `id-taken` or `key-taken` when an earlier admission
   * already recorded this request id or this unexpired Idempotency-Key.
   */
  admit(request: ValidChangeRequest, options: AdmissionOptions): Promise<Admission>;
  /** Deletes up to `limit` Idempotency-Keys that expired before `now`; returns how many. */
  purgeExpiredIdempotencyKeys(now: Date, limit: number): Promise<number>;
}
