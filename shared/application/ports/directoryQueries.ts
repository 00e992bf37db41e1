import type { ChangeRequest, ChangeRequestStatus } from '../../domain/changeRequest';
import type { AddressHolder, DirectoryUser, Endpoint, PersistentChatPool, SipDomain } from '../../domain/directory';
import type { SipAddress } from '../../domain/names';

/** A page of results and the cursor for the next one (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Filters for listing endpoints; `poolFqdn`, `sipAddress` and `displayName` may hold `*` wildcards. */
export interface EndpointFilter {
  /** A pool FQDN, lower case; with `*` a pattern (pcpool*.contoso.com), without one an exact name. */
  poolFqdn?: string;
  sipAddress?: string;
  displayName?: string;
  limit: number;
  cursor?: string;
}

/** Filters for listing change requests, newest first; `since` and `until` (ISO 8601) bound acceptedAt, inclusive. */
export interface ChangeRequestFilter {
  /** Only the requests this principal submitted over HTTP (a submitter's own). */
  submittedBy?: string;
  status?: ChangeRequestStatus;
  sipAddress?: SipAddress;
  operation?: 'create' | 'delete';
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

/** The topology as the service sees it. */
export interface Topology {
  sipDomains: SipDomain[];
  pools: Array<PersistentChatPool & { defaultEndpoint: Endpoint | null }>;
  users: DirectoryUser[];
}

/** The read side: what callers look up, read without a snapshot (each answer is as of its own read). */
export interface DirectoryQueries {
  changeRequest(id: string): Promise<ChangeRequest | undefined>;
  /**
   * Change requests newest first (by acceptedAt), filtered and paged; reads about as many rows as it
   * returns. Throws ValidationError on a cursor this service did not issue for this listing.
   */
  changeRequests(filter: ChangeRequestFilter): Promise<Page<ChangeRequest>>;
  holder(sipAddress: SipAddress): Promise<AddressHolder | undefined>;
  /**
   * Endpoints (default and admin-created) ordered by SIP domain, then user part; filtered and paged.
   * Throws ValidationError on a cursor this service did not issue.
   */
  endpoints(filter: EndpointFilter): Promise<Page<Endpoint>>;
  /**
   * The endpoints whose display name is exactly `displayName` (as stored: case and spaces count),
   * at most `limit` of them, ordered as listings are. Display names are not unique.
   */
  endpointsNamed(displayName: string, limit: number): Promise<Endpoint[]>;
  /** Domains, pools and users, each list ordered by name (users by domain, then user part). */
  topology(): Promise<Topology>;
  /** Whether the directory holds nothing yet (no audit record, so no domain, pool or user). */
  isEmpty(): Promise<boolean>;
}
