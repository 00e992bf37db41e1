import type { AuditHead, AuditRecord } from '../domain/audit';
import type { AuditCheckpoint, PositionedRecord } from '../domain/auditVerification';
import type { ChangeRequest, ChangeRequestBody } from '../domain/changeRequest';
import type { AddressHolder, DirectoryWrite, Endpoint, PersistentChatPool, SipDomain, DirectoryUser } from '../domain/directory';
import type { Fqdn, SipAddress } from '../domain/names';
import type { CloudEvent } from './events';

/** What a decision must read: the store returns all of it as of one version of the directory. */
export interface SnapshotQuery {
  domains?: Fqdn[];
  /** Pools to read; the holders of their default and admin endpoint addresses come with them. */
  pools?: Fqdn[];
  /** Addresses to read; an endpoint's pool comes with it. */
  addresses?: SipAddress[];
  /** Domains for which to learn whether any address lives in them. */
  domainUsage?: Fqdn[];
  changeRequests?: string[];
  /** Addresses whose line to read: the accepted request holding the lowest ticket comes back, with its pool. */
  lines?: SipAddress[];
}

/** A consistent read of the directory; `version` guards the commit built from it. */
export interface DirectorySnapshot {
  version: string;
  head: AuditHead;
  domains: Map<string, SipDomain>;
  pools: Map<string, PersistentChatPool>;
  holders: Map<string, AddressHolder>;
  domainsInUse: Set<string>;
  changeRequests: Map<string, ChangeRequest>;
  /** For each address asked for in `lines`, the request next in line (absent when none waits). */
  lineHeads: Map<string, WaitingChangeRequest>;
}

/**
 * Everything one change commits: state, change-request statuses, audit records and events, all or
 * nothing. A change request settled here (one with a ticket, leaving `accepted`) leaves its line.
 */
export interface DirectoryCommit {
  /** The snapshot version this commit was decided on; a commit on a stale version fails. */
  expectedVersion: string;
  head: AuditHead;
  writes: DirectoryWrite[];
  changeRequests: ChangeRequest[];
  audit: AuditRecord[];
  outbox: CloudEvent[];
}

/** A change request waiting in its address's line: admitted, holding a ticket, not yet settled. */
export type WaitingChangeRequest = ChangeRequest & { request: ChangeRequestBody; ticket: number };

/** A request's place in its line, and when to re-send its message if it is still waiting then. */
export interface PendingChangeRequest {
  /** The request as admitted: it does not change while it waits, so the line holds it whole. */
  changeRequest: WaitingChangeRequest;
  /** When the re-driver next sends its message again. */
  redriveAt: string;
  /** How often its message has been sent so far (the first send included). */
  sends: number;
}

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

/** A page of results and the cursor for the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Filters for listing endpoints; `sipAddress` and `displayName` may hold `*` wildcards. */
export interface EndpointFilter {
  poolFqdn?: Fqdn;
  sipAddress?: string;
  displayName?: string;
  limit: number;
  cursor?: string;
}

/** Which records to read, newest first. Each filter but the time window has an index; the window maps to a sequence range. */
export interface AuditQuery {
  subject?: string;
  action?: string;
  actor?: string;
  /** applied, rejected or failed. */
  outcome?: string;
  changeRequestId?: string;
  correlationId?: string;
  since?: string;
  until?: string;
}

/** A page of audit records. */
export interface AuditFilter extends AuditQuery {
  limit: number;
  cursor?: string;
}

/** The topology as the service sees it. */
export interface Topology {
  sipDomains: SipDomain[];
  pools: Array<PersistentChatPool & { defaultEndpoint: Endpoint | null }>;
  users: DirectoryUser[];
}

/**
 * The directory of one deployment: endpoints, directory users, pools, SIP domains, change requests,
 * the audit log and the outbox of events still to publish.
 *
 * Writers follow read → decide → commit: `snapshot` reads what a decision needs at one version, and
 * `commit` applies the decision's writes, its audit records and its events in one atomic step that
 * fails with ConcurrencyError if anything was committed since that version.
 */
export interface DirectoryStore {
  snapshot(query: SnapshotQuery): Promise<DirectorySnapshot>;
  commit(commit: DirectoryCommit): Promise<void>;
  /**
   * Accepts a change request in one atomic step: draws the next ticket in its address's line and
   * records the request, its place in the line and its Idempotency-Key.
   */
  admit(request: ChangeRequest & { request: ChangeRequestBody }, options: AdmissionOptions): Promise<Admission>;
  /** Requests still waiting whose re-drive time has passed, oldest ticket first per address. */
  dueForRedrive(now: Date, limit: number): Promise<PendingChangeRequest[]>;
  /** Counts one more send of a waiting request and sets its next re-drive time; a request settled since is left alone. */
  rescheduleRedrive(pending: PendingChangeRequest, redriveAt: Date): Promise<void>;
  /** The whole audit log, newest first, each record with the position its storage gives it (streamed). */
  auditChain(): AsyncIterable<PositionedRecord>;
  /** Signed checkpoints of the audit head, newest first (at most `limit`). */
  checkpoints(limit?: number): Promise<AuditCheckpoint[]>;
  /** Stores a checkpoint; one already stored for that sequence is kept. */
  addCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
  /** Deletes up to `limit` Idempotency-Keys that expired before `now`; returns how many. */
  purgeExpiredIdempotencyKeys(now: Date, limit: number): Promise<number>;
  getChangeRequest(id: string): Promise<ChangeRequest | undefined>;
  getHolder(sipAddress: SipAddress): Promise<AddressHolder | undefined>;
  listEndpoints(filter: EndpointFilter): Promise<Page<Endpoint>>;
  listAudit(filter: AuditFilter): Promise<Page<AuditRecord>>;
  /** Every record a query matches, newest first, streamed (for export). */
  exportAudit(query: AuditQuery): AsyncIterable<AuditRecord>;
  topology(): Promise<Topology>;
  /** Whether the directory holds nothing yet (no domain, pool or audit record). */
  isEmpty(): Promise<boolean>;
  pendingEvents(limit: number): Promise<CloudEvent[]>;
  /** Drops a published event from the outbox; dropping one already gone is fine. */
  markEventPublished(event: CloudEvent): Promise<void>;
}

/** Logical destinations; each adapter maps them to its queues or topics. */
export const Destination = {
  endpointCreate: 'endpointCreate',
  endpointDelete: 'endpointDelete',
  auditEvents: 'auditEvents',
} as const;
export type Destination = (typeof Destination)[keyof typeof Destination];

/** A message to send: the body plus the metadata a broker can use for dedupe, ordering and routing. */
export interface OutgoingMessage {
  /** Stable across re-sends, so a broker's duplicate detection and subscribers can drop repeats. */
  messageId: string;
  body: unknown;
  contentType: string;
  subject?: string;
  correlationId?: string;
  /** Messages with one session id are delivered in order (Service Bus sessions). */
  sessionId?: string;
  properties?: Record<string, string | number | boolean>;
}

/** A message that cannot be processed, with the reason it is set aside. */
export interface DeadLetter {
  reason: string;
  description: string;
  errors?: unknown[];
  /** The original message body, exactly as received. */
  original: unknown;
  messageId: string;
}

/**
 * Messaging: the queues for endpoint create / delete requests and the audit-event stream.
 * Adapters: Service Bus (production) and Storage queues (local default, also valid in Azure).
 */
export interface MessageBus {
  send(destination: Destination, message: OutgoingMessage): Promise<void>;
  /** Sets a message aside where operators look for poison (a dead-letter or poison queue). */
  deadLetter(source: Destination, letter: DeadLetter): Promise<void>;
}

/** Time, injectable so tests can pin it. */
export interface Clock {
  now(): Date;
}

/** New ids, injectable so tests can predict them. */
export interface IdGenerator {
  next(): string;
}

/** Where diagnostics go: the Functions invocation log or the console. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
}
