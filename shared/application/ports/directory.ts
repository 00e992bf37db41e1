import type { AuditHead, AuditRecord } from '../../domain/audit';
import type { ChangeRequest, WaitingChangeRequest } from '../../domain/changeRequest';
import type { AddressHolder, DirectoryWrite, PersistentChatPool, SipDomain } from '../../domain/directory';
import type { Fqdn, SipAddress } from '../../domain/names';
import type { CloudEvent } from '../events';

/** What a decision must read; the directory returns all of it as of one version. */
export interface DirectoryReads {
  domains?: Fqdn[];
  /** Pools to read; the holders of their default and admin endpoint addresses come with them (unless `poolEndpoints` is false). */
  pools?: Fqdn[];
  /** False when a decision needs the pools' rows but not their endpoints' holders (an endpoint change names the address it needs). */
  poolEndpoints?: boolean;
  /** Addresses to read; an endpoint's pool comes with it. */
  addresses?: SipAddress[];
  /** Domains for which to learn whether any address lives in them. */
  domainUsage?: Fqdn[];
  changeRequests?: string[];
  /** Addresses whose waiting list to read: the request holding the lowest ticket comes back, with its pool. */
  waitingLists?: SipAddress[];
  /**
   * Those of `waitingLists` most likely never used before (a create's address): their list is first
   * looked for at the first ticket's place, which no other ticket can precede, and searched only if
   * nothing is there.
   */
  likelyFirstTicket?: SipAddress[];
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
  /** For each address asked for in `waitingLists`, the request next in its list (absent when none waits). */
  nextWaiting: Map<string, WaitingChangeRequest>;
}

/**
 * How fresh a snapshot must be. `current` reads the head first, so the snapshot is as of now (what a
 * prediction or a decision that commits nothing needs). `cached` may answer from what this process
 * already knows, as of the last version it saw: right for a decision that commits, since the
 * commit is refused if anything was committed since that version.
 */
export type Freshness = 'current' | 'cached';

/**
 * Everything one decision commits: state, change-request statuses, audit records and events, all or
 * nothing. A change request settled here (one with a ticket, leaving `accepted`) leaves its waiting list;
 * one still `accepted` keeps its place.
 */
export interface DirectoryCommit {
  /** The snapshot version this commit was decided on; a commit on a stale version fails. */
  expectedVersion: string;
  head: AuditHead;
  writes: DirectoryWrite[];
  changeRequests: ChangeRequest[];
  /**
   * Each changed request's status as stored before this commit (from the snapshot); absent for a
   * request this commit records for the first time. The listings by status move the request along.
   */
  storedStatuses: ReadonlyMap<string, ChangeRequest['status']>;
  audit: AuditRecord[];
  outbox: CloudEvent[];
}

/**
 * The directory of one deployment as decisions see it: endpoints, directory users, pools, SIP
 * domains, change requests and the audit head. Writers follow read → decide → commit: `snapshot`
 * reads what a decision needs at one version, and `commit` applies the decision's writes, its audit
 * records and its events in one atomic step that fails with ConcurrencyError if anything was
 * committed since that version.
 */
export interface Directory {
  snapshot(reads: DirectoryReads, freshness?: Freshness): Promise<DirectorySnapshot>;
  commit(commit: DirectoryCommit): Promise<void>;
  /** Whether a commit fits in one atomic step (several decisions' commits may be joined into one while it does). */
  fits(commit: DirectoryCommit): boolean;
}
