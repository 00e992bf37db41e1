import { odata } from '@azure/data-tables';
import type { ChangeRequest } from '../../domain/changeRequest';
import type { AddressHolder, DirectoryUser, Endpoint, PersistentChatPool, SipDomain } from '../../domain/directory';
import type { SipAddress } from '../../domain/names';
import { wildcardMatcher, type WildcardMatcher } from '../../domain/wildcard';
import type { ChangeRequestFilter, DirectoryQueries, EndpointFilter, Page, Topology } from '../../application/ports/directoryQueries';
import { decodeCursor } from './cursors';
import { pageOf } from './pages';
import type { PartitionTable } from './partitionTable';
import { rowKeys, type ChangeRequestIndex } from './rowKeys';

/**
 * The index a change-request listing reads and, as OData clauses on the index rows' columns, the
 * other filters for the service to apply. The index is the most selective filter given: the
 * submitter's own, then the address, then the status, then the operation, else all. Its own filter
 * needs no clause, as its key already matches (even where rowKeys.keyPart hashes the value).
 */
function changeRequestIndexOf(filter: ChangeRequestFilter): { index: ChangeRequestIndex; clauses: string[] } {
  const given: Array<{ index: ChangeRequestIndex; clause: string }> = [];
  // A submitter's own are those it submitted over HTTP: a queue message's actor is the queue, never a principal.
  if (filter.submittedBy !== undefined)
    given.push({
      index: { index: 'actor', actor: filter.submittedBy },
      clause: odata`actor eq ${filter.submittedBy} and channel eq ${'http'}`,
    });
  if (filter.sipAddress !== undefined)
    given.push({ index: { index: 'address', sipAddress: filter.sipAddress }, clause: odata`sipAddress eq ${filter.sipAddress}` });
  if (filter.status !== undefined)
    given.push({ index: { index: 'status', status: filter.status }, clause: odata`status eq ${filter.status}` });
  if (filter.operation !== undefined)
    given.push({ index: { index: 'operation', operation: filter.operation }, clause: odata`operation eq ${filter.operation}` });
  const [chosen, ...others] = given;
  // The submitter's channel clause still applies when its index is the one read.
  const ownClause = chosen && filter.submittedBy !== undefined && chosen.index.index === 'actor' ? [odata`channel eq ${'http'}`] : [];
  return { index: chosen?.index ?? { index: 'all' }, clauses: [...ownClause, ...others.map((other) => other.clause)] };
}

/** `*` matches any run of characters, everything else literally, case-insensitively; linear time (domain/wildcard.ts). */
const wildcard = (pattern: string | undefined): WildcardMatcher | undefined =>
  pattern === undefined ? undefined : wildcardMatcher(pattern);

/** The read side on Azure Table Storage: point reads, and scans filtered by the rows' columns. */
export class TableDirectoryQueries implements DirectoryQueries {
  constructor(private readonly table: PartitionTable) {}

  async changeRequest(id: string): Promise<ChangeRequest | undefined> {
    return this.table.value<ChangeRequest>(rowKeys.changeRequest(id));
  }

  async changeRequests(filter: ChangeRequestFilter): Promise<Page<ChangeRequest>> {
    const { index, clauses } = changeRequestIndexOf(filter);
    const prefix = rowKeys.changeRequestIndexPrefix(index);
    const after = decodeCursor(filter.cursor, prefix);
    // Newest first: `until` is where the scan starts, `since` where it stops.
    const from = filter.until === undefined ? undefined : rowKeys.changeRequestIndexFrom(index, filter.until);
    const to = filter.since === undefined ? undefined : rowKeys.changeRequestIndexTo(index, filter.since);
    const rows = this.table.rows(prefix, {
      after,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      filter: clauses.join(' and ') || undefined,
      pageSize: filter.limit + 1,
    });
    return pageOf(rows, filter.limit, () => true);
  }

  async holder(sipAddress: SipAddress): Promise<AddressHolder | undefined> {
    return this.table.value<AddressHolder>(rowKeys.address(sipAddress));
  }

  async endpoints(filter: EndpointFilter): Promise<Page<Endpoint>> {
    const matchesSip = wildcard(filter.sipAddress);
    const matchesName = wildcard(filter.displayName);
    // An exact pool name is the service's to filter on; a pattern is matched here, as the others are.
    const poolPattern = filter.poolFqdn?.includes('*') ? wildcard(filter.poolFqdn) : undefined;
    const exactPool = poolPattern ? undefined : filter.poolFqdn;
    const columns = exactPool ? odata`holderKind eq ${'endpoint'} and poolFqdn eq ${exactPool}` : odata`holderKind eq ${'endpoint'}`;
    const after = decodeCursor(filter.cursor, rowKeys.addressPrefix);
    const rows = this.table.rows(rowKeys.addressPrefix, { after, filter: columns });
    return pageOf(
      rows,
      filter.limit,
      (endpoint: Endpoint) =>
        (matchesSip?.(endpoint.sipAddress) ?? true) &&
        (matchesName?.(endpoint.displayName) ?? true) &&
        (poolPattern?.(endpoint.poolFqdn) ?? true),
    );
  }

  async endpointsNamed(displayName: string, limit: number): Promise<Endpoint[]> {
    // The displayName column every address row carries, compared by the service: one bounded query
    // (at most `limit` rows come back), no index to keep, as display names change only by re-creating.
    return this.table.values<Endpoint>(rowKeys.addressPrefix, limit, {
      filter: odata`holderKind eq ${'endpoint'} and displayName eq ${displayName}`,
    });
  }

  async topology(): Promise<Topology> {
    const all = Number.MAX_SAFE_INTEGER;
    const [sipDomains, pools, holders] = await Promise.all([
      this.table.values<SipDomain>(rowKeys.domainPrefix, all),
      this.table.values<PersistentChatPool>(rowKeys.poolPrefix, all),
      this.table.values<AddressHolder>(rowKeys.addressPrefix, all, { filter: odata`holderKind eq ${'user'} or isDefault eq ${true}` }),
    ]);
    const defaults = new Map(holders.filter((h): h is Endpoint => h.kind === 'endpoint').map((e) => [e.sipAddress, e]));
    return {
      sipDomains,
      pools: pools.map((pool) => ({ ...pool, defaultEndpoint: defaults.get(pool.defaultEndpointSipAddress) ?? null })),
      users: holders.filter((h): h is DirectoryUser => h.kind === 'user'),
    };
  }

  async isEmpty(): Promise<boolean> {
    return (await this.table.row(rowKeys.head)) === undefined;
  }
}
