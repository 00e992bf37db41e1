import type { TransactionAction } from '@azure/data-tables';
import { GENESIS_HEAD, type AuditHead } from '../../domain/audit';
import type { ChangeRequest, WaitingChangeRequest } from '../../domain/changeRequest';
import type { AddressHolder, PersistentChatPool, SipDomain } from '../../domain/directory';
import { InvariantError } from '../../domain/errors';
import type { Fqdn, SipAddress } from '../../domain/names';
import type { Directory, DirectoryCommit, DirectoryReads, DirectorySnapshot, Freshness } from '../../application/ports/directory';
import type { ScheduledRedrive } from '../../application/ports/redriveSchedule';
import { auditEntities, changeRequestActions, leaveWaitingList, writeAction } from './entities';
import { statusOf } from '../azureErrors';
import { DirectoryCache, type Keep } from './directoryCache';
import { parse, type PartitionTable } from './partitionTable';
import type { PublishedOutboxRows } from './publishedOutbox';
import { outboxKeyOf } from './TableOutbox';
import { LAYOUT_VERSION, rowKeys, SCHEMA_VERSION_COLUMN } from './rowKeys';

/** Azure Table Storage caps an entity-group transaction at 100 actions. */
const MAX_TRANSACTION_ACTIONS = 100;
/**
 * The most row data a commit of several changes may carry: well under the service's 4 MiB
 * transaction payload, so a group never fails for its size (a single change is never held back).
 */
const GROUP_BYTES = 2 * 1024 * 1024;

/**
 * The most pools a process keeps from one read of them all: one page of a query. A deployment has a
 * handful (Persistent Chat pools are servers); past this, each pool is read when a change needs it.
 */
const MAX_POOLS_KEPT = 1000;

const byKey = <T, K extends string>(items: Array<T | undefined>, key: (item: T) => K): Map<K, T> =>
  new Map(items.filter((item): item is T => item !== undefined).map((item) => [key(item), item] as const));

/**
 * The Directory on Azure Table Storage: a snapshot is read behind the head row (or answered from
 * what this process already knows, see DirectoryCache), and a commit is one entity-group
 * transaction guarded by the head row's ETag (see rowKeys.ts for the layout).
 */
export class TableDirectory implements Directory {
  /** What this process knows as of the head version it last saw (see DirectoryCache); none until the first snapshot. */
  private cache: DirectoryCache | undefined;
  /** The read of the head that cached snapshots share, while it is in flight. */
  private headRead: Promise<DirectoryCache> | undefined;

  constructor(
    private readonly table: PartitionTable,
    private readonly published: PublishedOutboxRows,
  ) {}

  async snapshot(reads: DirectoryReads, freshness: Freshness = 'current'): Promise<DirectorySnapshot> {
    const cache = freshness === 'cached' ? (this.cache ?? (await this.sharedCacheAtHead())) : await this.cacheAtHead();
    const read = <T>(key: string, keep: Keep) => cache.through(key, keep, () => this.table.value<T>(key));
    const [domains, pools, domainsInUse, nextWaiting] = await Promise.all([
      Promise.all((reads.domains ?? []).map((name) => read<SipDomain>(rowKeys.domain(name), 'present-or-absent'))),
      this.pools(cache, reads.pools ?? []),
      Promise.all((reads.domainUsage ?? []).map(async (name) => ((await this.domainInUse(cache, name)) ? name : undefined))),
      Promise.all(
        (reads.waitingLists ?? []).map((sipAddress) => this.nextWaiting(cache, sipAddress, reads.likelyFirstTicket?.includes(sipAddress))),
      ),
    ]);
    // A request next in its waiting list came with the list (its place there holds its record as
    // admitted, which only a settling commit changes, and that commit also takes it out of the
    // list), so its own row is read only when it is not. The request next in its list also brings
    // the pool it names (usually one already read), so it can be decided on this snapshot.
    const waiting = new Map(nextWaiting.flatMap((next) => (next ? [[next.id, next] as const] : [])));
    const waitingPools = nextWaiting.flatMap((next) => (next?.request.operation === 'create' ? [next.request.poolFqdn] : []));
    const [changeRequests, poolsOfWaiting] = await Promise.all([
      Promise.all(
        (reads.changeRequests ?? []).map(
          async (id) => waiting.get(id) ?? (await read<ChangeRequest>(rowKeys.changeRequest(id), 'present')),
        ),
      ),
      this.pools(
        cache,
        waitingPools.filter((fqdn) => !reads.pools?.includes(fqdn)),
      ),
    ]);
    pools.push(...poolsOfWaiting);
    const holders = await this.holders(cache, reads.addresses ?? [], reads.poolEndpoints === false ? [] : pools);
    // An endpoint's pool comes with it, so a delete can free the pool's admin-endpoint slot.
    const poolsRead = new Set(pools.flatMap((pool) => (pool ? [pool.fqdn] : [])));
    pools.push(
      ...(await this.pools(
        cache,
        holders.flatMap((h) => (h?.kind === 'endpoint' && !poolsRead.has(h.poolFqdn) ? [h.poolFqdn] : [])),
      )),
    );

    return {
      version: cache.version,
      head: cache.head,
      domains: byKey(domains, (d) => d.name),
      pools: byKey(pools, (p) => p.fqdn),
      holders: byKey(holders, (h) => h.sipAddress),
      changeRequests: byKey(changeRequests, (c) => c.id),
      domainsInUse: new Set(domainsInUse.filter((name): name is Fqdn => name !== undefined)),
      nextWaiting: byKey(nextWaiting, (w) => w.request.sipAddress),
    };
  }

  /**
   * The cache as of the head row as it stands: kept when the head has not moved since, otherwise
   * started afresh. The head is read first: its ETag then vouches for every row read after it,
   * because every commit rewrites the head; a commit decided on this snapshot fails if anything
   * moved since. (Admissions append to waiting lists without touching the head, but only ever behind the first.)
   */
  private sharedCacheAtHead(): Promise<DirectoryCache> {
    // Snapshots that may be cached share one read of the head (a worker starts with a batch of
    // messages at once); a `current` one reads its own, since a read already in flight may predate it.
    this.headRead ??= this.cacheAtHead().finally(() => (this.headRead = undefined));
    return this.headRead;
  }

  private async cacheAtHead(): Promise<DirectoryCache> {
    const seen = this.cache;
    const seenVersion = seen?.version;
    const headRow = await this.table.row(rowKeys.head);
    const version = headRow?.etag ?? '';
    if (this.cache?.version === version) return this.cache;
    const fresh = new DirectoryCache(version, parse<AuditHead>(headRow) ?? GENESIS_HEAD);
    // Installed only if no commit of this process moved the cache while the head was read: the head
    // read may then be older than the cache, and must not replace it.
    if (this.cache === seen && seen?.version === seenVersion) this.cache = fresh;
    return fresh;
  }

  /** An admission in this process made `admitted` first in its waiting list: what the cache may keep (see DirectoryCache.keepFirstInLine). */
  admittedFirstInLine(admitted: WaitingChangeRequest): void {
    this.cache?.keepFirstInLine(admitted);
  }

  fits(commit: DirectoryCommit): boolean {
    const actions = this.actionsOf(commit);
    const bytes = actions.reduce((sum, [, entity]) => sum + ('data' in entity ? String(entity.data).length : 0), 0);
    return actions.length <= MAX_TRANSACTION_ACTIONS && bytes <= GROUP_BYTES;
  }

  async commit(commit: DirectoryCommit): Promise<void> {
    const actions = this.actionsOf(commit);
    if (actions.length > MAX_TRANSACTION_ACTIONS) {
      throw new InvariantError(
        'invariant_broken',
        `a commit of ${actions.length} actions exceeds the ${MAX_TRANSACTION_ACTIONS}-action transaction limit`,
      );
    }
    const cache = this.cache;
    let headEtag: string | undefined;
    try {
      // A race is ConcurrencyError: the head moved (412), or a concurrent first commit created it (409).
      [headEtag] = await this.transactSweeping(actions);
    } catch (error) {
      // Another writer moved the head, or the outcome is unknown (an outage): nothing cached is vouched for any more.
      this.cache = undefined;
      throw error;
    }
    // The cache moves on only from the version this commit was decided on; anything else starts afresh.
    if (cache !== undefined && cache.version === commit.expectedVersion && headEtag) {
      cache.applyCommit(commit, headEtag);
      this.cache = cache;
    } else {
      this.cache = undefined;
    }
  }

  /** A commit's actions, the head's first (its new ETag is the first answered). */
  private actionsOf(commit: DirectoryCommit): TransactionAction[] {
    // Every commit writes rows in today's layout, so the head it rewrites says so (a Replace would drop the column otherwise).
    const head = this.table.entity(rowKeys.head, commit.head, { sequence: commit.head.sequence, [SCHEMA_VERSION_COLUMN]: LAYOUT_VERSION });
    return [
      commit.expectedVersion === '' ? ['create', head] : ['update', head, 'Replace', { etag: commit.expectedVersion }],
      ...commit.writes.map((write) => writeAction(this.table, write)),
      ...commit.changeRequests.flatMap((request) => changeRequestActions(this.table, request, commit.storedStatuses.get(request.id))),
      ...commit.changeRequests.flatMap((request) => leaveWaitingList(this.table, request)),
      ...commit.audit.flatMap((record) => auditEntities(this.table, record)).map((row): TransactionAction => ['create', row]),
      ...commit.outbox.map((event): TransactionAction => ['create', this.table.entity(outboxKeyOf(event), event)]),
    ];
  }

  /**
   * Submits a commit's actions with the deletes of published events' outbox rows in the room left.
   * Should one of those rows be gone already (a re-driver elsewhere deleted it), the transaction
   * fails whole with 404 and nothing is written: it is submitted again without them, and they are
   * swept one by one.
   */
  private async transactSweeping(actions: TransactionAction[]): Promise<Array<string | undefined>> {
    // A row this commit creates cannot be a published one (that would be a commit decided on a stale
    // head, which the head's ETag refuses); carrying its delete would only turn that refusal into an error.
    const created = new Set(actions.flatMap(([kind, entity]) => (kind === 'create' ? [entity.rowKey] : [])));
    const swept = this.published.carry(MAX_TRANSACTION_ACTIONS - actions.length, (key) => !created.has(key));
    if (swept.length === 0) return this.table.transact(actions);
    try {
      const etags = await this.table.transact([...actions, ...swept.map((key): TransactionAction => ['delete', this.table.key(key)])]);
      this.published.done(swept, true);
      return etags;
    } catch (error) {
      this.published.done(swept, false);
      if (statusOf(error) !== 404) throw error;
      const etags = await this.table.transact(actions);
      await this.published.sweep();
      return etags;
    }
  }

  /** Deduplicated pool reads, in the order asked: all pools are read at once, once per cache (see DirectoryCache.throughWhole). */
  private pools(cache: DirectoryCache, names: Fqdn[]): Promise<Array<PersistentChatPool | undefined>> {
    return Promise.all(
      [...new Set(names)].map((fqdn) => {
        const key = rowKeys.pool(fqdn);
        return cache.throughWhole(
          key,
          rowKeys.poolPrefix,
          () => this.allPools(),
          () => this.table.value<PersistentChatPool>(key),
        );
      }),
    );
  }

  /** Every pool row by key, when there are few enough to keep (one page); undefined otherwise. */
  private async allPools(): Promise<Map<string, PersistentChatPool> | undefined> {
    const pools = new Map<string, PersistentChatPool>();
    for await (const row of this.table.rows(rowKeys.poolPrefix, { pageSize: MAX_POOLS_KEPT })) {
      if (pools.size === MAX_POOLS_KEPT) return undefined;
      pools.set(row.rowKey, parse<PersistentChatPool>(row) as PersistentChatPool);
    }
    return pools;
  }

  /** The holders of the addresses asked for and of the pools' default and admin endpoints. */
  private holders(
    cache: DirectoryCache,
    addresses: SipAddress[],
    pools: Array<PersistentChatPool | undefined>,
  ): Promise<Array<AddressHolder | undefined>> {
    const poolAddresses = pools.flatMap((pool) => (pool ? [pool.defaultEndpointSipAddress, pool.adminEndpointSipAddress] : []));
    const all = [...new Set([...addresses, ...poolAddresses].filter((address): address is SipAddress => address !== null))];
    return Promise.all(
      all.map((sipAddress) => {
        const key = rowKeys.address(sipAddress);
        return cache.through(key, 'present-or-absent', () => this.table.value<AddressHolder>(key));
      }),
    );
  }

  /** Whether any address lives in a domain. */
  private domainInUse(cache: DirectoryCache, name: Fqdn): Promise<boolean | undefined> {
    const prefix = rowKeys.addressesInDomain(name);
    return cache.through(prefix, 'present-or-absent', () => this.table.any(prefix));
  }

  /**
   * The request holding the lowest ticket in an address's waiting list. Tickets start at 1, so a
   * request holding the first is next whatever else waits: when that is likely, its place is read
   * (one row) before the list is searched (a query).
   */
  private nextWaiting(cache: DirectoryCache, sipAddress: SipAddress, likelyFirstTicket = false): Promise<WaitingChangeRequest | undefined> {
    const prefix = rowKeys.waitingListOf(sipAddress);
    return cache.through(prefix, 'present', async () => {
      const atFirstTicket = likelyFirstTicket ? await this.table.value<ScheduledRedrive>(rowKeys.waiting(sipAddress, 1)) : undefined;
      const [first] = atFirstTicket ? [atFirstTicket] : await this.table.values<ScheduledRedrive>(prefix, 1);
      return first?.changeRequest;
    });
  }
}
