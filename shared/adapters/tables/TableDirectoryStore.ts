import { odata, type TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import { GENESIS_HEAD, type AuditHead, type AuditRecord } from '../../domain/audit';
import type { AuditCheckpoint, PositionedRecord } from '../../domain/auditVerification';
import { ChangeRequestStatus, type ChangeRequest, type ChangeRequestBody } from '../../domain/changeRequest';
import type { AddressHolder, DirectoryWrite, Endpoint, PersistentChatPool, SipDomain, DirectoryUser } from '../../domain/directory';
import { ConcurrencyError, InvariantError, UnavailableError, ValidationError } from '../../domain/errors';
import type { Fqdn, SipAddress } from '../../domain/names';
import type { CloudEvent } from '../../application/events';
import type {
  Admission, AdmissionOptions, AuditFilter, AuditQuery, DirectoryCommit, DirectorySnapshot, DirectoryStore, EndpointFilter, IdempotencyRecord, Page,
  PendingChangeRequest, SnapshotQuery, Topology, WaitingChangeRequest,
} from '../../application/ports';
import { prefixEnd, rowKeys, type AuditIndex } from './rowKeys';
import { isStorageOutage, statusOf } from '../azureErrors';

/** The slice of TableClient this adapter uses, so a test can hand it a fake. */
export type DirectoryTableClient = Pick<TableClient, 'createTable' | 'getEntity' | 'createEntity' | 'updateEntity' | 'deleteEntity' | 'listEntities' | 'submitTransaction'>;

/** Every row: the value as JSON, plus the columns queries filter on. */
type Row = TableEntity<{ data: string; [column: string]: unknown }>;

const MAX_TRANSACTION_ACTIONS = 100;
/** Admissions of one address race on its line row; each loser re-reads and draws again. */
const MAX_ADMISSION_ATTEMPTS = 50;

/** The line row of a SIP address: the last ticket drawn. */
interface Line {
  sipAddress: SipAddress;
  lastTicket: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isRace = (error: unknown) => statusOf(error) === 409 || statusOf(error) === 412;

/** Vendor errors become ours: a lost race is ConcurrencyError, an outage UnavailableError; anything else (a bug) passes through. */
function translate(error: unknown): unknown {
  if (statusOf(error) === 412) return new ConcurrencyError('concurrent_change', 'another writer changed the row first', { cause: error });
  if (isStorageOutage(error)) return new UnavailableError('service_unavailable', 'table storage is unavailable', { cause: error });
  return error;
}

async function tolerate404<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw translate(error);
  }
}

function parse<T>(row: { data?: unknown } | undefined): T | undefined {
  return row && typeof row.data === 'string' ? (JSON.parse(row.data) as T) : undefined;
}

function decodeCursor(cursor: string | undefined, prefix: string): string | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')).after;
  } catch {
    key = undefined;
  }
  if (typeof key !== 'string' || !key.startsWith(prefix)) {
    throw new ValidationError('validation_failed', 'the cursor is not one this service issued', { errors: [{ pointer: '#/cursor', detail: 'must be a cursor returned by a previous page' }] });
  }
  return key;
}

const encodeCursor = (rowKey: string) => Buffer.from(JSON.stringify({ after: rowKey })).toString('base64url');

/** `*` matches any run of characters; everything else literally, case-insensitively. */
function wildcard(pattern: string | undefined): ((value: string | null) => boolean) | undefined {
  if (pattern === undefined) return undefined;
  const source = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  const regex = new RegExp(`^${source}$`, 'i');
  return (value) => value !== null && regex.test(value);
}

/**
 * The DirectoryStore on Azure Table Storage (Azurite locally). See rowKeys.ts for the layout;
 * `commit` is one entity-group transaction guarded by the head row's ETag.
 */
export class TableDirectoryStore implements DirectoryStore {
  constructor(private readonly table: DirectoryTableClient, private readonly partitionKey: string) {}

  /** Creates the table if it does not exist yet. */
  async ensureTable(): Promise<void> {
    try {
      await this.table.createTable();
    } catch (error) {
      if (statusOf(error) !== 409) throw translate(error);
    }
  }

  private async row(rowKey: string): Promise<TableEntityResult<Row> | undefined> {
    return tolerate404(this.table.getEntity<Row>(this.partitionKey, rowKey));
  }

  private async value<T>(rowKey: string): Promise<T | undefined> {
    return parse<T>(await this.row(rowKey));
  }

  /** Rows under `prefix`, in key order: after `after` (exclusive), from `from` and up to `to` (inclusive) when given. */
  private async *rows(prefix: string, options: { after?: string; from?: string; to?: string; filter?: string; pageSize?: number } = {}): AsyncGenerator<TableEntityResult<Row>> {
    const lower = options.after ? odata`RowKey gt ${options.after}` : odata`RowKey ge ${options.from ?? prefix}`;
    const clauses = [odata`PartitionKey eq ${this.partitionKey}`, lower, options.to ? odata`RowKey le ${options.to}` : odata`RowKey lt ${prefixEnd(prefix)}`];
    if (options.after && options.from) clauses.push(odata`RowKey ge ${options.from}`);
    if (options.filter) clauses.push(`(${options.filter})`);
    try {
      // A page size asks the service for no more rows per round trip than the caller will use.
      const pages = this.table.listEntities<Row>({ queryOptions: { filter: clauses.join(' and ') } }).byPage({ maxPageSize: options.pageSize ?? 1000 });
      for await (const page of pages) yield* page;
    } catch (error) {
      throw translate(error);
    }
  }

  async snapshot(query: SnapshotQuery): Promise<DirectorySnapshot> {
    // The head is read first: its ETag then vouches for every row read after it, because every
    // commit rewrites the head; a commit decided on this snapshot fails if anything moved since.
    // (Admissions append to lines without touching the head, but only ever behind the line head.)
    const headRow = await this.row(rowKeys.head);
    const head = parse<AuditHead>(headRow) ?? GENESIS_HEAD;

    const readPools = (names: Fqdn[]) => Promise.all(names.map((fqdn) => this.value<PersistentChatPool>(rowKeys.pool(fqdn))));
    const [domains, pools, changeRequests, domainsInUse, lineHeads] = await Promise.all([
      Promise.all((query.domains ?? []).map((name) => this.value<SipDomain>(rowKeys.domain(name)))),
      readPools(query.pools ?? []),
      Promise.all((query.changeRequests ?? []).map((id) => this.value<ChangeRequest>(rowKeys.changeRequest(id)))),
      Promise.all((query.domainUsage ?? []).map(async (name) => ((await this.first(rowKeys.addressesInDomain(name))) ? name : undefined))),
      Promise.all((query.lines ?? []).map((sipAddress) => this.lineHead(sipAddress))),
    ]);
    // The request next in line brings the pool it names (usually one already read), so it can be decided on this snapshot.
    const linePools = lineHeads.flatMap((next) => (next?.request?.operation === 'create' && !query.pools?.includes(next.request.poolFqdn) ? [next.request.poolFqdn] : []));
    pools.push(...(await readPools([...new Set(linePools)])));
    const poolAddresses = pools.flatMap((pool) => (pool ? [pool.defaultEndpointSipAddress, pool.adminEndpointSipAddress] : []));
    const addresses = [...new Set([...(query.addresses ?? []), ...poolAddresses].filter((a): a is SipAddress => a !== null))];
    const holders = await Promise.all(addresses.map((sipAddress) => this.value<AddressHolder>(rowKeys.address(sipAddress))));
    // An endpoint's pool comes with it, so a delete can free the pool's admin-endpoint slot.
    const poolsRead = new Set(pools.flatMap((pool) => (pool ? [pool.fqdn] : [])));
    const endpointPools = [...new Set(holders.flatMap((h) => (h?.kind === 'endpoint' && !poolsRead.has(h.poolFqdn) ? [h.poolFqdn] : [])))];
    pools.push(...(await readPools(endpointPools)));

    const byKey = <T, K extends string>(items: Array<T | undefined>, key: (item: T) => K) =>
      new Map(items.filter((item): item is T => item !== undefined).map((item) => [key(item), item] as const));
    return {
      version: headRow?.etag ?? '',
      head,
      domains: byKey(domains, (d) => d.name),
      pools: byKey(pools, (p) => p.fqdn),
      holders: byKey(holders, (h) => h.sipAddress),
      changeRequests: byKey(changeRequests, (c) => c.id),
      domainsInUse: new Set(domainsInUse.filter((name): name is Fqdn => name !== undefined)),
      lineHeads: new Map(lineHeads.flatMap((next) => (next ? [[next.request.sipAddress, next] as const] : []))),
    };
  }

  /** The request holding the lowest ticket in an address's line. */
  private async lineHead(sipAddress: SipAddress): Promise<WaitingChangeRequest | undefined> {
    for await (const row of this.rows(rowKeys.pendingFor(sipAddress))) return parse<PendingChangeRequest>(row)?.changeRequest;
    return undefined;
  }

  private async first(prefix: string): Promise<boolean> {
    for await (const _row of this.rows(prefix)) return true;
    return false;
  }

  private entity(rowKey: string, value: unknown, columns: Record<string, unknown> = {}): Row {
    return { partitionKey: this.partitionKey, rowKey, data: JSON.stringify(value), ...columns };
  }

  private holderEntity(holder: AddressHolder): Row {
    const columns = holder.kind === 'endpoint'
      ? { holderKind: 'endpoint', sipAddress: holder.sipAddress, poolFqdn: holder.poolFqdn, displayName: holder.displayName ?? '', isDefault: holder.isDefault }
      : { holderKind: 'user', sipAddress: holder.sipAddress, displayName: holder.displayName ?? '', isDefault: false };
    return this.entity(rowKeys.address(holder.sipAddress), holder, columns);
  }

  private writeAction(write: DirectoryWrite): TransactionAction {
    const key = (rowKey: string) => ({ partitionKey: this.partitionKey, rowKey });
    switch (write.type) {
      case 'putHolder': return ['upsert', this.holderEntity(write.holder), 'Replace'];
      case 'removeHolder': return ['delete', key(rowKeys.address(write.sipAddress))];
      case 'putPool': return ['upsert', this.entity(rowKeys.pool(write.pool.fqdn), write.pool), 'Replace'];
      case 'removePool': return ['delete', key(rowKeys.pool(write.fqdn))];
      case 'putDomain': return ['upsert', this.entity(rowKeys.domain(write.domain.name), write.domain), 'Replace'];
      case 'removeDomain': return ['delete', key(rowKeys.domain(write.name))];
    }
  }

  /** An audit record's row and its index rows (subject, actor, type, outcome, change request), all in its commit. */
  private auditEntities(record: AuditRecord): Row[] {
    const columns = {
      sequence: record.sequence, time: record.time, action: record.action, actor: record.actor, subject: record.subject,
      outcome: record.outcome.status, changeRequestId: record.changeRequestId ?? '', correlationId: record.correlationId,
    };
    const indexed: Array<[AuditIndex, string | null]> = [
      ['actor', record.actor], ['type', record.action], ['outcome', record.outcome.status], ['changeRequest', record.changeRequestId], ['correlation', record.correlationId],
    ];
    return [
      this.entity(rowKeys.audit(record.sequence), record, columns),
      this.entity(rowKeys.auditBySubject(record.subject, record.sequence), record, columns),
      ...indexed.flatMap(([dimension, value]) => (value === null ? [] : [this.entity(rowKeys.auditIndex(dimension, value, record.sequence), record, columns)])),
    ];
  }

  async commit(commit: DirectoryCommit): Promise<void> {
    const headEntity = this.entity(rowKeys.head, commit.head, { sequence: commit.head.sequence });
    const actions: TransactionAction[] = [
      commit.expectedVersion === '' ? ['create', headEntity] : ['update', headEntity, 'Replace', { etag: commit.expectedVersion }],
      ...commit.writes.map((write) => this.writeAction(write)),
      ...commit.changeRequests.map((request): TransactionAction => ['upsert', this.entity(rowKeys.changeRequest(request.id), request, { status: request.status }), 'Replace']),
      ...commit.changeRequests.flatMap((request): TransactionAction[] => this.leaveLine(request)),
      ...commit.audit.flatMap((record) => this.auditEntities(record)).map((row): TransactionAction => ['create', row]),
      ...commit.outbox.map((event): TransactionAction => ['create', this.entity(rowKeys.outbox(event.data.sequence), event)]),
    ];
    if (actions.length > MAX_TRANSACTION_ACTIONS) {
      throw new InvariantError('invariant_broken', `a commit of ${actions.length} actions exceeds the ${MAX_TRANSACTION_ACTIONS}-action transaction limit`);
    }
    try {
      await this.table.submitTransaction(actions);
    } catch (error) {
      // 409 means the head (or an audit sequence) was created by a concurrent first commit.
      if (isRace(error)) throw new ConcurrencyError('concurrent_change', 'another writer committed first', { cause: error });
      throw translate(error);
    }
  }

  /** A settled request's place in its line is given up in the commit that settles it. */
  private leaveLine(request: ChangeRequest): TransactionAction[] {
    if (request.ticket === null || request.request === null || request.status === ChangeRequestStatus.accepted) return [];
    return [['delete', { partitionKey: this.partitionKey, rowKey: rowKeys.pending(request.request.sipAddress, request.ticket) }]];
  }

  async admit(changeRequest: ChangeRequest & { request: ChangeRequestBody }, options: AdmissionOptions): Promise<Admission> {
    const sipAddress = changeRequest.request.sipAddress;
    const keyRowKey = options.idempotency ? rowKeys.idempotencyKey(options.idempotency.scope, options.idempotency.key) : undefined;
    for (let attempt = 1; ; attempt++) {
      const [lineRow, keyRow] = await Promise.all([this.row(rowKeys.line(sipAddress)), keyRowKey ? this.row(keyRowKey) : undefined]);
      const heldKey = parse<IdempotencyRecord>(keyRow);
      if (heldKey && heldKey.expiresAt > options.now.toISOString()) return { outcome: 'key-taken', idempotency: heldKey };

      const ticket = (parse<Line>(lineRow)?.lastTicket ?? 0) + 1;
      const admitted: WaitingChangeRequest = { ...changeRequest, ticket };
      const pending: PendingChangeRequest = { changeRequest: admitted, redriveAt: options.redriveAt.toISOString(), sends: 1 };
      const line = this.entity(rowKeys.line(sipAddress), { sipAddress, lastTicket: ticket } satisfies Line);
      const actions: TransactionAction[] = [
        lineRow ? ['update', line, 'Replace', { etag: lineRow.etag }] : ['create', line],
        ['create', this.entity(rowKeys.changeRequest(admitted.id), admitted, { status: admitted.status })],
        ['create', this.pendingEntity(pending)],
      ];
      if (keyRowKey && options.idempotency) {
        const { scope, key, expiresAt } = options.idempotency;
        const keyEntity = this.entity(keyRowKey, { ...options.idempotency, changeRequest: admitted } satisfies IdempotencyRecord);
        // An expired key is taken over in place (its ETag keeps a concurrent takeover from winning twice), and its old expiry entry goes.
        actions.push(keyRow ? ['update', keyEntity, 'Replace', { etag: keyRow.etag }] : ['create', keyEntity]);
        if (heldKey) actions.push(['delete', { partitionKey: this.partitionKey, rowKey: rowKeys.idempotencyExpiry(heldKey.expiresAt, scope, key) }]);
        actions.push(['create', this.entity(rowKeys.idempotencyExpiry(expiresAt, scope, key), { scope, key, expiresAt })]);
      }
      try {
        await this.table.submitTransaction(actions);
        return { outcome: 'admitted', changeRequest: admitted };
      } catch (error) {
        if (!isRace(error)) throw translate(error);
      }
      // Another admission won the line, the key or (a redelivered message) the id: see which, then draw again.
      const existing = await this.getChangeRequest(changeRequest.id);
      if (existing) return { outcome: 'id-taken', changeRequest: existing };
      if (attempt >= MAX_ADMISSION_ATTEMPTS) throw new ConcurrencyError('concurrent_change', `could not draw a ticket for ${sipAddress} after ${attempt} attempts`);
      await pause(Math.random() * Math.min(50, 2 * attempt));
    }
  }

  private pendingEntity(pending: PendingChangeRequest): Row {
    const { request, ticket } = pending.changeRequest;
    return this.entity(rowKeys.pending(request.sipAddress, ticket), pending, { redriveAt: pending.redriveAt, sends: pending.sends });
  }

  async dueForRedrive(now: Date, limit: number): Promise<PendingChangeRequest[]> {
    const due: PendingChangeRequest[] = [];
    for await (const row of this.rows(rowKeys.pendingPrefix, { filter: odata`redriveAt lt ${now.toISOString()}` })) {
      due.push(parse<PendingChangeRequest>(row) as PendingChangeRequest);
      if (due.length >= limit) break;
    }
    return due;
  }

  async rescheduleRedrive(pending: PendingChangeRequest, redriveAt: Date): Promise<void> {
    const next: PendingChangeRequest = { ...pending, redriveAt: redriveAt.toISOString(), sends: pending.sends + 1 };
    // Update, never upsert: a request settled meanwhile has left its line and must not be put back.
    await tolerate404(this.table.updateEntity(this.pendingEntity(next), 'Replace', { etag: '*' }));
  }

  async *auditChain(): AsyncIterable<PositionedRecord> {
    for await (const row of this.rows(rowKeys.auditPrefix)) {
      yield { position: rowKeys.auditPosition(row.rowKey), record: parse<AuditRecord>(row) as AuditRecord };
    }
  }

  async checkpoints(limit = Number.MAX_SAFE_INTEGER): Promise<AuditCheckpoint[]> {
    const found: AuditCheckpoint[] = [];
    for await (const row of this.rows(rowKeys.checkpointPrefix, { pageSize: Math.min(limit, 1000) })) {
      found.push(parse<AuditCheckpoint>(row) as AuditCheckpoint);
      if (found.length >= limit) break;
    }
    return found;
  }

  async addCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    try {
      await this.table.createEntity(this.entity(rowKeys.checkpoint(checkpoint.sequence), checkpoint, { sequence: checkpoint.sequence }));
    } catch (error) {
      if (statusOf(error) !== 409) throw translate(error);
    }
  }

  async purgeExpiredIdempotencyKeys(now: Date, limit: number): Promise<number> {
    // The expiry entries sort by time, so this reads the expired keys and stops: no scan of live keys.
    const expired: Array<Pick<IdempotencyRecord, 'scope' | 'key' | 'expiresAt'>> = [];
    for await (const row of this.rows(rowKeys.idempotencyExpiryPrefix, { filter: odata`RowKey lt ${rowKeys.idempotencyExpiry(now.toISOString(), '', '')}` })) {
      expired.push(parse<Pick<IdempotencyRecord, 'scope' | 'key' | 'expiresAt'>>(row) as Pick<IdempotencyRecord, 'scope' | 'key' | 'expiresAt'>);
      if (expired.length >= limit) break;
    }
    let purged = 0;
    for (const { scope, key, expiresAt } of expired) {
      const rowKey = (k: string) => ({ partitionKey: this.partitionKey, rowKey: k });
      try {
        await this.table.submitTransaction([['delete', rowKey(rowKeys.idempotencyKey(scope, key))], ['delete', rowKey(rowKeys.idempotencyExpiry(expiresAt, scope, key))]]);
        purged++;
      } catch (error) {
        // 404: a new admission took the key over (and removed this entry) since it was listed.
        if (statusOf(error) !== 404) throw translate(error);
      }
    }
    return purged;
  }

  getChangeRequest(id: string): Promise<ChangeRequest | undefined> {
    return this.value<ChangeRequest>(rowKeys.changeRequest(id));
  }

  getHolder(sipAddress: SipAddress): Promise<AddressHolder | undefined> {
    return this.value<AddressHolder>(rowKeys.address(sipAddress));
  }

  async listEndpoints(filter: EndpointFilter): Promise<Page<Endpoint>> {
    const matchesSip = wildcard(filter.sipAddress);
    const matchesName = wildcard(filter.displayName);
    const serverFilter = filter.poolFqdn
      ? odata`holderKind eq ${'endpoint'} and poolFqdn eq ${filter.poolFqdn}`
      : odata`holderKind eq ${'endpoint'}`;
    const after = decodeCursor(filter.cursor, rowKeys.addressPrefix);
    return this.page(this.rows(rowKeys.addressPrefix, { after, filter: serverFilter }), filter.limit, (endpoint: Endpoint) =>
      (matchesSip?.(endpoint.sipAddress) ?? true) && (matchesName?.(endpoint.displayName) ?? true));
  }

  async listAudit(filter: AuditFilter): Promise<Page<AuditRecord>> {
    const range = await this.auditRange(filter);
    if (range === undefined) return { items: [], nextCursor: null };
    const rows = this.rows(range.prefix, { after: decodeCursor(filter.cursor, range.prefix), from: range.from, to: range.to, filter: range.filter, pageSize: filter.limit + 1 });
    return this.page(rows, filter.limit, () => true);
  }

  async *exportAudit(query: AuditQuery): AsyncIterable<AuditRecord> {
    const range = await this.auditRange(query);
    if (range === undefined) return;
    for await (const row of this.rows(range.prefix, { from: range.from, to: range.to, filter: range.filter })) yield parse<AuditRecord>(row) as AuditRecord;
  }

  /**
   * Where a query's records lie: one index (the most selective filter given), narrowed to the
   * sequence range of its time window, with the other filters applied by the service. So the rows
   * read are the ones returned, plus a binary search for the window's ends; never the whole log.
   * Undefined when the window holds no record.
   */
  private async auditRange(query: AuditQuery): Promise<{ prefix: string; from?: string; to?: string; filter?: string } | undefined> {
    const prefix = query.subject !== undefined ? rowKeys.auditSubjectPrefix(query.subject)
      : query.changeRequestId !== undefined ? rowKeys.auditIndexPrefix('changeRequest', query.changeRequestId)
        : query.correlationId !== undefined ? rowKeys.auditIndexPrefix('correlation', query.correlationId)
        : query.actor !== undefined ? rowKeys.auditIndexPrefix('actor', query.actor)
          : query.action !== undefined ? rowKeys.auditIndexPrefix('type', query.action)
            : query.outcome !== undefined ? rowKeys.auditIndexPrefix('outcome', query.outcome)
              : rowKeys.auditPrefix;
    const clauses = [
      query.subject !== undefined ? odata`subject eq ${query.subject}` : undefined,
      query.changeRequestId !== undefined ? odata`changeRequestId eq ${query.changeRequestId}` : undefined,
      query.correlationId !== undefined ? odata`correlationId eq ${query.correlationId}` : undefined,
      query.actor !== undefined ? odata`actor eq ${query.actor}` : undefined,
      query.action !== undefined ? odata`action eq ${query.action}` : undefined,
      query.outcome !== undefined ? odata`outcome eq ${query.outcome}` : undefined,
    ].filter((clause): clause is string => clause !== undefined);
    const filter = clauses.join(' and ') || undefined;
    if (query.since === undefined && query.until === undefined) return { prefix, filter };
    const window = await this.sequenceWindow(query.since, query.until);
    if (window === undefined) return undefined;
    // Keys hold inverted sequences: the newest end of the window is the lower key.
    return { prefix, from: rowKeys.auditAt(prefix, window.last), to: rowKeys.auditAt(prefix, window.first), filter };
  }

  /**
   * The sequences of the first record at or after `since` and the last at or before `until`. Times
   * never decrease along the log (appendToChain), so both are found by binary search on point reads.
   */
  private async sequenceWindow(since: string | undefined, until: string | undefined): Promise<{ first: number; last: number } | undefined> {
    const head = parse<AuditHead>(await this.row(rowKeys.head)) ?? GENESIS_HEAD;
    const timeAt = async (sequence: number) => (await this.value<AuditRecord>(rowKeys.audit(sequence)))?.time;
    /** The lowest sequence in [1, head + 1] whose record satisfies `after` (head + 1 if none does). */
    const lowest = async (after: (time: string) => boolean) => {
      let low = 1;
      let high = head.sequence + 1;
      while (low < high) {
        const middle = Math.floor((low + high) / 2);
        const time = await timeAt(middle);
        // A missing record (a damaged log) is treated as later, which keeps the search moving.
        if (time === undefined || after(time)) high = middle;
        else low = middle + 1;
      }
      return low;
    };
    const first = since === undefined ? 1 : await lowest((time) => time >= since);
    const last = until === undefined ? head.sequence : (await lowest((time) => time > until)) - 1;
    return first <= last ? { first, last } : undefined;
  }

  private async page<T>(rows: AsyncGenerator<TableEntityResult<Row>>, limit: number, keep: (value: T) => boolean): Promise<Page<T>> {
    const items: T[] = [];
    let lastKey: string | undefined;
    for await (const row of rows) {
      const value = parse<T>(row) as T;
      if (!keep(value)) continue;
      if (items.length === limit) {
        await rows.return(undefined);
        return { items, nextCursor: lastKey ? encodeCursor(lastKey) : null };
      }
      items.push(value);
      lastKey = row.rowKey;
    }
    return { items, nextCursor: null };
  }

  async topology(): Promise<Topology> {
    const collect = async <T>(prefix: string, filter?: string) => {
      const values: T[] = [];
      for await (const row of this.rows(prefix, { filter })) values.push(parse<T>(row) as T);
      return values;
    };
    const [sipDomains, pools, holders] = await Promise.all([
      collect<SipDomain>(rowKeys.domainPrefix),
      collect<PersistentChatPool>(rowKeys.poolPrefix),
      collect<AddressHolder>(rowKeys.addressPrefix, odata`holderKind eq ${'user'} or isDefault eq ${true}`),
    ]);
    const defaults = new Map(holders.filter((h): h is Endpoint => h.kind === 'endpoint').map((e) => [e.sipAddress, e]));
    return {
      sipDomains,
      pools: pools.map((pool) => ({ ...pool, defaultEndpoint: defaults.get(pool.defaultEndpointSipAddress) ?? null })),
      users: holders.filter((h): h is DirectoryUser => h.kind === 'user'),
    };
  }

  async isEmpty(): Promise<boolean> {
    return (await this.row(rowKeys.head)) === undefined;
  }

  async pendingEvents(limit: number): Promise<CloudEvent[]> {
    const events: CloudEvent[] = [];
    for await (const row of this.rows(rowKeys.outboxPrefix)) {
      events.push(parse<CloudEvent>(row) as CloudEvent);
      if (events.length >= limit) break;
    }
    return events;
  }

  async markEventPublished(event: CloudEvent): Promise<void> {
    await tolerate404(this.table.deleteEntity(this.partitionKey, rowKeys.outbox(event.data.sequence)));
  }
}
