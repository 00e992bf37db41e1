import type { TransactionAction } from '@azure/data-tables';
import { GENESIS_HEAD, type AuditHead } from '../../domain/audit';
import type { ChangeRequest, WaitingChangeRequest } from '../../domain/changeRequest';
import type { AddressHolder, PersistentChatPool, SipDomain } from '../../domain/directory';
import { InvariantError } from '../../domain/errors';
import type { Fqdn, SipAddress } from '../../domain/names';
import type { Directory, DirectoryCommit, DirectoryReads, DirectorySnapshot } from '../../application/ports/directory';
import type { ScheduledRedrive } from '../../application/ports/redriveSchedule';
import { auditEntities, changeRequestActions, leaveWaitingList, writeAction } from './entities';
import { parse, type PartitionTable } from './partitionTable';
import { outboxKeyOf } from './TableOutbox';
import { LAYOUT_VERSION, rowKeys, SCHEMA_VERSION_COLUMN } from './rowKeys';

/** Azure Table Storage caps an entity-group transaction at 100 actions. */
const MAX_TRANSACTION_ACTIONS = 100;

const byKey = <T, K extends string>(items: Array<T | undefined>, key: (item: T) => K): Map<K, T> =>
  new Map(items.filter((item): item is T => item !== undefined).map((item) => [key(item), item] as const));

/**
 * The Directory on Azure Table Storage: a snapshot is read behind the head row, and a commit is one
 * entity-group transaction guarded by the head row's ETag (see rowKeys.ts for the layout).
 */
export class TableDirectory implements Directory {
  constructor(private readonly table: PartitionTable) {}

  async snapshot(reads: DirectoryReads): Promise<DirectorySnapshot> {
    // The head is read first: its ETag then vouches for every row read after it, because every
    // commit rewrites the head; a commit decided on this snapshot fails if anything moved since.
    // (Admissions append to waiting lists without touching the head, but only ever behind the first.)
    const headRow = await this.table.row(rowKeys.head);
    const [domains, pools, changeRequests, domainsInUse, nextWaiting] = await Promise.all([
      Promise.all((reads.domains ?? []).map((name) => this.table.value<SipDomain>(rowKeys.domain(name)))),
      this.pools(reads.pools ?? []),
      Promise.all((reads.changeRequests ?? []).map((id) => this.table.value<ChangeRequest>(rowKeys.changeRequest(id)))),
      Promise.all(
        (reads.domainUsage ?? []).map(async (name) => ((await this.table.any(rowKeys.addressesInDomain(name))) ? name : undefined)),
      ),
      Promise.all((reads.waitingLists ?? []).map((sipAddress) => this.nextWaiting(sipAddress))),
    ]);
    // The request next in its list brings the pool it names (usually one already read), so it can be decided on this snapshot.
    const waitingPools = nextWaiting.flatMap((next) => (next?.request.operation === 'create' ? [next.request.poolFqdn] : []));
    pools.push(...(await this.pools(waitingPools.filter((fqdn) => !reads.pools?.includes(fqdn)))));
    const holders = await this.holders(reads.addresses ?? [], pools);
    // An endpoint's pool comes with it, so a delete can free the pool's admin-endpoint slot.
    const poolsRead = new Set(pools.flatMap((pool) => (pool ? [pool.fqdn] : [])));
    pools.push(...(await this.pools(holders.flatMap((h) => (h?.kind === 'endpoint' && !poolsRead.has(h.poolFqdn) ? [h.poolFqdn] : [])))));

    return {
      version: headRow?.etag ?? '',
      head: parse<AuditHead>(headRow) ?? GENESIS_HEAD,
      domains: byKey(domains, (d) => d.name),
      pools: byKey(pools, (p) => p.fqdn),
      holders: byKey(holders, (h) => h.sipAddress),
      changeRequests: byKey(changeRequests, (c) => c.id),
      domainsInUse: new Set(domainsInUse.filter((name): name is Fqdn => name !== undefined)),
      nextWaiting: byKey(nextWaiting, (w) => w.request.sipAddress),
    };
  }

  async commit(commit: DirectoryCommit): Promise<void> {
    // Every commit writes rows in today's layout, so the head it rewrites says so (a Replace would drop the column otherwise).
    const head = this.table.entity(rowKeys.head, commit.head, { sequence: commit.head.sequence, [SCHEMA_VERSION_COLUMN]: LAYOUT_VERSION });
    const actions: TransactionAction[] = [
      commit.expectedVersion === '' ? ['create', head] : ['update', head, 'Replace', { etag: commit.expectedVersion }],
      ...commit.writes.map((write) => writeAction(this.table, write)),
      ...commit.changeRequests.flatMap((request) => changeRequestActions(this.table, request, commit.storedStatuses.get(request.id))),
      ...commit.changeRequests.flatMap((request) => leaveWaitingList(this.table, request)),
      ...commit.audit.flatMap((record) => auditEntities(this.table, record)).map((row): TransactionAction => ['create', row]),
      ...commit.outbox.map((event): TransactionAction => ['create', this.table.entity(outboxKeyOf(event), event)]),
    ];
    if (actions.length > MAX_TRANSACTION_ACTIONS) {
      throw new InvariantError(
        'invariant_broken',
        `a commit of ${actions.length} actions exceeds the ${MAX_TRANSACTION_ACTIONS}-action transaction limit`,
      );
    }
    // A race is ConcurrencyError: the head moved (412), or a concurrent first commit created it (409).
    await this.table.transact(actions);
  }

  /** Deduplicated pool reads, in the order asked. */
  private pools(names: Fqdn[]): Promise<Array<PersistentChatPool | undefined>> {
    return Promise.all([...new Set(names)].map((fqdn) => this.table.value<PersistentChatPool>(rowKeys.pool(fqdn))));
  }

  /** The holders of the addresses asked for and of the pools' default and admin endpoints. */
  private holders(addresses: SipAddress[], pools: Array<PersistentChatPool | undefined>): Promise<Array<AddressHolder | undefined>> {
    const poolAddresses = pools.flatMap((pool) => (pool ? [pool.defaultEndpointSipAddress, pool.adminEndpointSipAddress] : []));
    const all = [...new Set([...addresses, ...poolAddresses].filter((address): address is SipAddress => address !== null))];
    return Promise.all(all.map((sipAddress) => this.table.value<AddressHolder>(rowKeys.address(sipAddress))));
  }

  /** The request holding the lowest ticket in an address's waiting list. */
  private async nextWaiting(sipAddress: SipAddress): Promise<WaitingChangeRequest | undefined> {
    const [first] = await this.table.values<ScheduledRedrive>(rowKeys.waitingListOf(sipAddress), 1);
    return first?.changeRequest;
  }
}
