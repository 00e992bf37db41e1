import { createHash } from 'node:crypto';
import type { OutcomeCode } from './codes';

/** What an audit record says happened. Event types derive from it: `pchat.<action>.v1`. */
export const AuditAction = {
  endpointCreated: 'endpoint.created',
  endpointCreateRejected: 'endpoint.create-rejected',
  endpointDeleted: 'endpoint.deleted',
  endpointDeleteRejected: 'endpoint.delete-rejected',
  changeRequestInvalid: 'change-request.invalid',
  changeRequestFailed: 'change-request.failed',
  /** An accepted request withdrawn by its submitter or an operator. */
  changeRequestCanceled: 'change-request.canceled',
  sipDomainAdded: 'sip-domain.added',
  sipDomainRemoved: 'sip-domain.removed',
  poolRegistered: 'pool.registered',
  poolRetired: 'pool.retired',
  directoryUserAdded: 'directory-user.added',
  directoryUserRemoved: 'directory-user.removed',
  /** Topology changes refused by a rule (409): audited with the state that made the rule refuse. */
  sipDomainRemoveRejected: 'sip-domain.remove-rejected',
  poolRegisterRejected: 'pool.register-rejected',
  poolRetireRejected: 'pool.retire-rejected',
  directoryUserAddRejected: 'directory-user.add-rejected',
  /** A waiting-list entry the re-driver could not read, taken out of the schedule. */
  redriveEntryDiscarded: 'redrive.entry-discarded',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** The outcome an audit record reports. */
export type AuditOutcome = { status: 'applied' } | { status: 'rejected' | 'failed'; code: OutcomeCode; message: string };

/** An audit record before the log places it: the log assigns sequence, time and hashes. */
export interface AuditDraft {
  id: string;
  actor: string;
  /**
   * The unauthenticated claim of whom the actor acted for (a queue message's `actor`). Optional and
   * left out when absent, so records without it hash exactly as they did before it existed.
   */
  onBehalfOf?: string;
  action: AuditAction;
  /** A SIP address, or a topology object such as `pool:pcpool.contoso.com`. */
  subject: string;
  changeRequestId: string | null;
  correlationId: string;
  causationId: string | null;
  outcome: AuditOutcome;
  before: unknown;
  after: unknown;
}

/**
 * One append-only audit record. `previousHash` links it to the record before it and `hash` covers
 * every other field, so an edited, removed or reordered record breaks the chain.
 */
export interface AuditRecord extends AuditDraft {
  sequence: number;
  time: string;
  previousHash: string;
  hash: string;
}

/** The end of the audit log: what the next record links to. */
export interface AuditHead {
  sequence: number;
  hash: string;
  time: string | null;
}

/** The head of an empty log. */
export const GENESIS_HEAD: AuditHead = { sequence: 0, hash: '0'.repeat(64), time: null };

/** JSON with object keys sorted, so a record hashes the same wherever it is serialized. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The SHA-256 (hex) of a record's content, including the link to its predecessor. */
export function hashAuditRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/**
 * Places drafts after `head`: consecutive sequence numbers, non-decreasing times, chained hashes.
 * Time never runs backwards in the log even if clocks do, so time windows follow sequence order.
 */
export function appendToChain(head: AuditHead, drafts: AuditDraft[], now: Date): { records: AuditRecord[]; head: AuditHead } {
  let current = head;
  const records: AuditRecord[] = [];
  for (const draft of drafts) {
    const time = current.time !== null && current.time > now.toISOString() ? current.time : now.toISOString();
    const unhashed = { ...draft, sequence: current.sequence + 1, time, previousHash: current.hash };
    const record: AuditRecord = { ...unhashed, hash: hashAuditRecord(unhashed) };
    records.push(record);
    current = { sequence: record.sequence, hash: record.hash, time };
  }
  return { records, head: current };
}
