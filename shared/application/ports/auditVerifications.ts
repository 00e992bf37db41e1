import type { AuditHead } from '../../domain/audit';
import type { ChainBreak, ChainVerifierState, VerificationReport } from '../../domain/auditVerification';
import type { AuditVerificationRecord, ChainPosition, VerificationMode } from '../../domain/verificationRecord';

/** What a run walks, decided once when it starts (see application/audit/verificationRuns.ts). */
export interface VerificationPlan {
  /** The mode it runs in: a requested incremental run may have to be full (fullBecause says why). */
  mode: VerificationMode;
  /** The head when it started: records appended later are the next run's. */
  head: AuditHead;
  /** Where the walk stops: the end of the previous verification, or the start of the log. */
  boundary: ChainPosition;
  basedOn: { id: string; sequence: number } | null;
  fullBecause: string | null;
  /** A break found while planning (the record the previous verification ended at has changed), or null. */
  found: ChainBreak | null;
  /** The newest checkpoint when it started: checkpoints made while it runs are the next run's. */
  checkpointsThrough: number;
}

/** Where an operation's work is: its plan, its walk so far, and who holds it now. */
export interface VerificationWork {
  plan: VerificationPlan | null;
  walk: ChainVerifierState | null;
  /** The instance advancing it, until when; an expired lease (a crashed instance) is anyone's to take. */
  lease: { owner: string; until: string } | null;
}

/** What an asynchronous verification (POST /api/audit/verifications) looks like to its caller. */
export interface VerificationOperation {
  id: string;
  mode: VerificationMode;
  status: 'running' | 'succeeded' | 'failed';
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  progress: { recordsChecked: number; recordsToCheck: number };
  /** The report once it succeeded (intact or not: a broken log is a successful verification that found a break). */
  result: VerificationReport | null;
  /** Why it could not finish, once it failed. */
  error: { code: string; message: string } | null;
}

/** An operation as stored: what the caller sees, plus where the work is (never shown to callers). */
export interface StoredVerification extends VerificationOperation {
  work: VerificationWork;
}

/** A stored operation and the version it was read at, for a conditional write. */
export interface VersionedVerification {
  operation: StoredVerification;
  etag: string;
}

/**
 * Where verifications are kept: the signed record of how far the log was last verified, and the
 * operations, each written only under the version it was read at (so two instances never both
 * advance one: the second write fails with ConcurrencyError).
 */
export interface AuditVerifications {
  /** The latest signed verification record, as stored (its signature is the caller's to check). */
  latest(): Promise<AuditVerificationRecord | undefined>;
  /** Replaces the latest verification record. */
  saveLatest(record: AuditVerificationRecord): Promise<void>;
  /** Stores a new operation. */
  create(operation: StoredVerification): Promise<void>;
  /** One operation and its version, or undefined. */
  get(id: string): Promise<VersionedVerification | undefined>;
  /** Replaces an operation if it is still at `etag`; answers the new version; ConcurrencyError otherwise. */
  replace(operation: StoredVerification, etag: string): Promise<string>;
  /** The ids of the operations still running. */
  running(): Promise<string[]>;
}
