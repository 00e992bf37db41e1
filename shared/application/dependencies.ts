import type { DeliveryPolicy } from './deliveryPolicy';
import type { KeyedMutex } from './keyedMutex';
import type { RateLimiter } from './rateLimiter';
import type { Admissions } from './ports/admissions';
import type { AuditLog } from './ports/auditLog';
import type { AuditSearch } from './ports/auditSearch';
import type { AuditWitness } from './ports/auditWitness';
import type { AuditVerifications } from './ports/auditVerifications';
import type { CheckpointKeyRing, CheckpointSigner } from './ports/checkpointSigning';
import type { Directory } from './ports/directory';
import type { DirectoryQueries } from './ports/directoryQueries';
import type { MessageBus } from './ports/messageBus';
import type { Outbox } from './ports/outbox';
import type { RedriveSchedule } from './ports/redriveSchedule';
import type { Clock, IdGenerator, Logger, Tracing } from './ports/system';

/**
 * Everything the use cases are built from, as the composition root wires it. Each use case asks
 * for the few it uses (a Pick of this), so a test hands it exactly those.
 */
export interface ServiceDependencies {
  directory: Directory;
  admissions: Admissions;
  redrives: RedriveSchedule;
  auditLog: AuditLog;
  auditSearch: AuditSearch;
  /** The signed record of how far the log was verified, and the asynchronous verifications. */
  auditVerifications: AuditVerifications;
  outbox: Outbox;
  queries: DirectoryQueries;
  bus: MessageBus;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  /** W3C trace contexts: the active span's (telemetry on) or carried along. */
  tracing: Tracing;
  /** Writers of this process take turns per key (see KeyedMutex). */
  mutex: KeyedMutex;
  /** The CloudEvents `source` of this deployment's events. */
  eventSource: string;
  delivery: DeliveryPolicy;
  /** Bounds on what one request may ask of the service. */
  limits: { auditExportRecords: number };
  /** Submissions per principal, per instance (SUBMISSION_RATE_LIMIT per SUBMISSION_RATE_WINDOW_SECONDS). */
  submissionLimiter: RateLimiter;
  /** What signs audit checkpoints (AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_VAULT_KEY_ID); without it no checkpoints are made. */
  checkpointSigner?: CheckpointSigner;
  /** The public keys checkpoints are verified with, by key id; without them only the checkpoints' hashes are compared. */
  checkpointKeys?: CheckpointKeyRing;
  /** The blob witness (AUDIT_WITNESS_CONTAINER): a copy of every checkpoint outside the table; absent, checkpoints are not copied there. */
  auditWitness?: AuditWitness;
}
