import { createHash } from 'node:crypto';
import type { TableEntity, TransactionAction } from '@azure/data-tables';
import type { AuditRecord } from '../../domain/audit';
import type { ChangeRequest } from '../../domain/changeRequest';
import type { AddressHolder, PersistentChatPool, SipDomain } from '../../domain/directory';
import { ConcurrencyError, ErrorCode, InvariantError } from '../../domain/errors';
import { canonicalEscapes, type SipAddress } from '../../domain/names';
import type { ScheduledRedrive } from '../../application/ports/redriveSchedule';
import type { Logger } from '../../application/ports/system';
import { statusOf } from '../azureErrors';
import { changeRequestEntity, changeRequestIndexEntities, holderEntity, scheduledRedriveEntity } from './entities';
import { parse, type PartitionTable, type Row, type StoredRow } from './partitionTable';
import { LAYOUT_VERSION, rowKeys, SCHEMA_VERSION_COLUMN, type AuditIndex } from './rowKeys';

/**
 * Layout version 2: every SIP address in its canonical spelling (domain/names.ts), and every key
 * part through keyPart (bounded, hashed when long or ill-formed). Version 1 (no version on the head
 * row) could hold `sip:ocs%63hat@…` beside `sip:ocschat@…`, and keys of values that keyPart now hashes.
 *
 * The step recomputes each row that carries an address or a keyed value from its properties, as
 * this layout writes it today, and rewrites the rows that differ: re-keyed (create the new key,
 * delete the old one) or rewritten in place (If-Match), in entity-group transactions of at most 100
 * actions, each guarded by the head row's ETag (see HeadGuard). A transaction planned on rows that
 * another writer has since changed fails whole, and the step starts over from a fresh read; a crash
 * between transactions leaves rows a re-run finds and finishes. The head's version is bumped last,
 * with If-Match: a second instance migrating at the same time finds it bumped and stops.
 *
 * Rows that meet at one canonical key (two holders of one address) lose nothing: the one that came
 * first keeps the key, the other is kept whole under `conflict|<canonical key>|<hash of its old key>`
 * for an operator, and logged. Audit records are never rewritten (their content is hashed): only
 * the index rows that copy them are re-keyed, content unchanged.
 */

/**
 * Azure Table Storage: at most 100 actions and 4 MiB per entity-group transaction; one action is
 * the head guard, and 2 MiB of data leaves room for the envelope.
 */
const MAX_TRANSACTION_ACTIONS = 99;
const MAX_TRANSACTION_DATA = 2 * 1024 * 1024;
/** Fresh starts after a race before the step gives up until the next open. */
const MAX_ATTEMPTS = 5;

/** The layout version of a partition: the head row's column, 1 when absent. */
export function layoutVersionOf(head: StoredRow | undefined): number {
  const version = head?.[SCHEMA_VERSION_COLUMN];
  return typeof version === 'number' ? version : 1;
}

/** What one run did. */
export interface MigrationReport {
  /** Whether the head now says LAYOUT_VERSION (false: no head yet, or races outlasted the attempts). */
  migrated: boolean;
  /** Rows re-keyed or rewritten. */
  rewritten: number;
  /** Rows kept under conflict| keys. */
  conflicts: number;
}

/** One kind of row: its prefix, the row it should be today, and which of several meeting at one key came first. */
interface RowKind {
  prefix: string;
  expected(table: PartitionTable, row: StoredRow): Row;
  /** Sorts earlier for the row that came first (ties: the row already at the key). */
  since?(row: StoredRow): string;
  /** Folds rows meeting at one key into one instead of keeping conflicts (waiting-list counters). */
  merge?(table: PartitionTable, rows: StoredRow[], target: Row): Row;
}

const canonical = (sipAddress: SipAddress): SipAddress => canonicalEscapes(sipAddress.toLowerCase()) as SipAddress;
const valueOf = <T>(row: StoredRow): T => parse<T>(row) as T;

/** An index row moved to its key of today, every property (the record's copy included) unchanged. */
function sameRowAt(row: StoredRow, rowKey: string): Row {
  const { etag: _etag, timestamp: _timestamp, ...properties } = row;
  return { ...properties, rowKey };
}

const AUDIT_INDEX_VALUES: Record<AuditIndex, (record: AuditRecord) => string | null> = {
  actor: (record) => record.actor,
  onBehalfOf: (record) => record.onBehalfOf ?? null,
  type: (record) => record.action,
  outcome: (record) => record.outcome.status,
  changeRequest: (record) => record.changeRequestId,
  correlation: (record) => record.correlationId,
};

interface LastTicket {
  sipAddress: SipAddress;
  lastTicket: number;
}

const KINDS: RowKind[] = [
  {
    prefix: rowKeys.domainPrefix,
    expected: (table, row) => {
      const domain = valueOf<SipDomain>(row);
      return table.entity(rowKeys.domain(domain.name), domain);
    },
  },
  {
    prefix: rowKeys.poolPrefix,
    expected: (table, row) => {
      const pool = valueOf<PersistentChatPool>(row);
      const admin = pool.adminEndpointSipAddress;
      const fixed = { ...pool, defaultEndpointSipAddress: canonical(pool.defaultEndpointSipAddress) };
      return table.entity(rowKeys.pool(pool.fqdn), { ...fixed, adminEndpointSipAddress: admin === null ? null : canonical(admin) });
    },
  },
  {
    prefix: rowKeys.addressPrefix,
    expected: (table, row) => {
      const holder = valueOf<AddressHolder>(row);
      return holderEntity(table, { ...holder, sipAddress: canonical(holder.sipAddress) });
    },
    since: (row) => {
      const holder = valueOf<AddressHolder>(row);
      return holder.kind === 'endpoint' ? holder.createdAt : holder.addedAt;
    },
  },
  {
    prefix: 'line|',
    expected: (table, row) => {
      const counter = valueOf<LastTicket>(row);
      const sipAddress = canonical(counter.sipAddress);
      return table.entity(rowKeys.lastTicket(sipAddress), { sipAddress, lastTicket: counter.lastTicket });
    },
    // Two spellings' lists become one: its counter must be past every ticket either drew.
    merge: (table, rows, target) => {
      const lastTicket = Math.max(...rows.map((row) => valueOf<LastTicket>(row).lastTicket));
      const { sipAddress } = parse<LastTicket>(target) as LastTicket;
      return table.entity(target.rowKey, { sipAddress, lastTicket });
    },
  },
  {
    prefix: rowKeys.waitingPrefix,
    expected: (table, row) => {
      const entry = valueOf<ScheduledRedrive>(row);
      const waiting = entry.changeRequest;
      const request = { ...waiting.request, sipAddress: canonical(waiting.request.sipAddress) };
      return scheduledRedriveEntity(table, { ...entry, changeRequest: { ...waiting, request } });
    },
    since: (row) => valueOf<ScheduledRedrive>(row).changeRequest.acceptedAt,
  },
  {
    prefix: 'cr|',
    expected: (table, row) => {
      const changeRequest = valueOf<ChangeRequest>(row);
      const { request } = changeRequest;
      return changeRequestEntity(
        table,
        request === null ? changeRequest : { ...changeRequest, request: { ...request, sipAddress: canonical(request.sipAddress) } },
      );
    },
  },
  {
    prefix: 'auditsub|',
    expected: (_table, row) => {
      const record = valueOf<AuditRecord>(row);
      return sameRowAt(row, rowKeys.auditBySubject(record.subject, record.sequence));
    },
  },
  {
    prefix: 'auditix|',
    expected: (_table, row) => {
      const record = valueOf<AuditRecord>(row);
      // The dimension is the key's fixed second segment (a name of ours, not a value).
      const dimension = row.rowKey.split('|')[1] as AuditIndex;
      const value = AUDIT_INDEX_VALUES[dimension](record);
      return value === null ? sameRowAt(row, row.rowKey) : sameRowAt(row, rowKeys.auditIndex(dimension, value, record.sequence));
    },
  },
];

/** Whether a stored row already holds everything the expected row does. */
function holdsAll(stored: StoredRow, expected: Row): boolean {
  return Object.entries(expected).every(([name, value]) => stored[name] === value);
}

/** Where a row that lost its key to another is kept. */
export function conflictKey(targetKey: string, originalKey: string): string {
  return `conflict|${targetKey}|${createHash('sha256').update(originalKey).digest('hex').slice(0, 16)}`;
}

/** The rows whose expected key is one key. */
interface Group {
  target: string;
  members: Array<{ row: StoredRow; expected: Row }>;
}

/** What one group needs done: its conditional actions, and the conflicts it keeps. */
interface GroupPlan {
  actions: TransactionAction[];
  conflicts: Array<{ originalRowKey: string; canonicalRowKey: string }>;
}

const deleteAction = (table: PartitionTable, row: StoredRow): TransactionAction => ['delete', table.key(row.rowKey)];

/** The actions that bring one group to its canonical key: nothing when it is already there. */
function planGroup(table: PartitionTable, kind: RowKind, group: Group): GroupPlan {
  const atTarget = (row: StoredRow) => (row.rowKey === group.target ? 0 : 1);
  const ordered = [...group.members].sort(
    (a, b) =>
      (kind.since?.(a.row) ?? '').localeCompare(kind.since?.(b.row) ?? '') ||
      atTarget(a.row) - atTarget(b.row) ||
      a.row.rowKey.localeCompare(b.row.rowKey),
  );
  const [keeper, ...others] = ordered as [Group['members'][number], ...Group['members']];
  const target =
    kind.merge && others.length > 0
      ? kind.merge(
          table,
          ordered.map((member) => member.row),
          keeper.expected,
        )
      : keeper.expected;
  const occupant = group.members.find((member) => member.row.rowKey === group.target)?.row;
  const plan: GroupPlan = { actions: [], conflicts: [] };

  if (occupant === undefined) plan.actions.push(['create', target]);
  else if (occupant !== keeper.row || !holdsAll(occupant, target))
    plan.actions.push(['update', target, 'Replace', { etag: occupant.etag }]);
  if (keeper.row !== occupant) plan.actions.push(deleteAction(table, keeper.row));

  for (const { row } of others) {
    if (!kind.merge) {
      const kept: Row = {
        ...sameRowAt(row, conflictKey(group.target, row.rowKey)),
        originalRowKey: row.rowKey,
        canonicalRowKey: group.target,
        conflict: 'canonical-sip-address',
      };
      plan.actions.push(['create', kept]);
      plan.conflicts.push({ originalRowKey: row.rowKey, canonicalRowKey: group.target });
    }
    // The occupant's row is overwritten by the keeper above; any other is removed from its old key.
    if (row !== occupant) plan.actions.push(deleteAction(table, row));
  }
  return plan;
}

/** Every group of one kind of row, keyed by where its rows belong today. */
async function groupsOf(table: PartitionTable, kind: RowKind): Promise<Group[]> {
  const groups = new Map<string, Group>();
  for await (const row of table.rows(kind.prefix)) {
    const expected = kind.expected(table, row);
    const group = groups.get(expected.rowKey) ?? { target: expected.rowKey, members: [] };
    group.members.push({ row, expected });
    groups.set(expected.rowKey, group);
  }
  return [...groups.values()];
}

const dataSize = (action: TransactionAction) => {
  const data = (action[1] as { data?: unknown }).data;
  return typeof data === 'string' ? data.length : 0;
};

/** Whether a transaction failed because another writer moved a row it planned on. */
const lostRace = (error: unknown) => error instanceof ConcurrencyError || statusOf(error) === 404;

/**
 * The head row's ETag as the migration last saw it. A transaction's delete is unconditional in the
 * SDK, so each transaction also rewrites the head's version column with If-Match: a commit since the
 * rows were read (every commit rewrites the head) fails the transaction, and the step starts over.
 */
interface HeadGuard {
  etag: string;
  version: number;
}

/** Submits actions, guarded by the head when there is one; the guard moves on to the head's new ETag. */
async function guarded(table: PartitionTable, guard: HeadGuard | undefined, actions: TransactionAction[]): Promise<void> {
  if (guard === undefined) {
    await table.transact(actions);
    return;
  }
  const head: TableEntity = { ...table.key(rowKeys.head), [SCHEMA_VERSION_COLUMN]: guard.version };
  const [headEtag] = await table.transact([['update', head, 'Merge', { etag: guard.etag }], ...actions]);
  if (headEtag === undefined) throw new InvariantError(ErrorCode.invariantBroken, 'the service answered a head update without its ETag');
  guard.etag = headEtag;
}

/** Runs the plans in transactions of whole groups, each within the action and size limits. */
async function submit(table: PartitionTable, guard: HeadGuard | undefined, plans: GroupPlan[]): Promise<void> {
  let batch: TransactionAction[] = [];
  let size = 0;
  for (const { actions } of plans) {
    const added = actions.reduce((sum, action) => sum + dataSize(action), 0);
    if (batch.length > 0 && (batch.length + actions.length > MAX_TRANSACTION_ACTIONS || size + added > MAX_TRANSACTION_DATA)) {
      await guarded(table, guard, batch);
      batch = [];
      size = 0;
    }
    batch.push(...actions);
    size += added;
  }
  if (batch.length > 0) await guarded(table, guard, batch);
}

/**
 * Layout version 3: every change request in the listings (`crix|` rows, rowKeys.ts), which admission
 * and every settling commit now write beside the request. This step runs after the version-2 pass,
 * on the request rows as that pass left them: it writes each request's index rows that are missing
 * or differ, and deletes index rows no request accounts for (a listing under a spelling the
 * version-2 pass changed). A re-run after a crash midway finds what is left; a second run writes nothing.
 */
async function indexChangeRequests(table: PartitionTable, guard: HeadGuard | undefined): Promise<number> {
  const existing = new Map<string, StoredRow>();
  for await (const row of table.rows(rowKeys.changeRequestIndexRoot)) existing.set(row.rowKey, row);
  const plans: GroupPlan[] = [];
  for await (const row of table.rows(rowKeys.changeRequestPrefix)) {
    const actions: TransactionAction[] = [];
    for (const index of changeRequestIndexEntities(table, valueOf<ChangeRequest>(row))) {
      const stored = existing.get(index.rowKey);
      existing.delete(index.rowKey);
      if (stored === undefined || !holdsAll(stored, index)) actions.push(['upsert', index, 'Replace']);
    }
    if (actions.length > 0) plans.push({ actions, conflicts: [] });
  }
  const stale = [...existing.values()].map((row) => ({ actions: [deleteAction(table, row)], conflicts: [] }));
  await submit(table, guard, [...plans, ...stale]);
  return plans.reduce((sum, plan) => sum + plan.actions.length, 0);
}

/** One pass: read, plan and rewrite every kind, then bump the head's version with If-Match. */
async function migrateOnce(table: PartitionTable, log: Logger): Promise<MigrationReport> {
  const report: MigrationReport = { migrated: false, rewritten: 0, conflicts: 0 };
  const head = await table.row(rowKeys.head);
  const guard = head === undefined ? undefined : { etag: head.etag, version: layoutVersionOf(head) };
  for (const kind of KINDS) {
    const plans = (await groupsOf(table, kind)).map((group) => planGroup(table, kind, group)).filter((plan) => plan.actions.length > 0);
    await submit(table, guard, plans);
    for (const plan of plans) {
      report.rewritten += plan.actions.filter(([type]) => type !== 'delete').length - plan.conflicts.length;
      report.conflicts += plan.conflicts.length;
      for (const conflict of plan.conflicts) {
        log.warn('two rows meet at one canonical SIP address key: the later is kept under a conflict row for an operator', {
          ...conflict,
          conflictRowKey: conflictKey(conflict.canonicalRowKey, conflict.originalRowKey),
        });
      }
    }
  }
  report.rewritten += await indexChangeRequests(table, guard);
  // No head yet: nothing to stamp; a later open, or the first commit (which writes the version), settles it.
  if (guard === undefined) return report;
  await guarded(table, { ...guard, version: LAYOUT_VERSION }, []);
  return { ...report, migrated: true };
}

/**
 * Brings a partition to LAYOUT_VERSION; nothing when its head says it is there. Safe to run from
 * several instances at once and again after a crash midway. Run when the store is opened.
 */
export async function migrateToCurrentLayout(table: PartitionTable, log: Logger): Promise<MigrationReport> {
  for (let attempt = 1; ; attempt++) {
    if (layoutVersionOf(await table.row(rowKeys.head)) >= LAYOUT_VERSION) return { migrated: true, rewritten: 0, conflicts: 0 };
    try {
      const report = await migrateOnce(table, log);
      if (report.rewritten + report.conflicts > 0)
        log.info(`migrated the directory partition to layout version ${LAYOUT_VERSION}`, { ...report });
      return report;
    } catch (error) {
      if (!lostRace(error)) throw error;
      if (attempt >= MAX_ATTEMPTS) {
        log.warn('another writer kept moving rows during the layout migration; the next open finishes it', { attempts: attempt });
        return { migrated: false, rewritten: 0, conflicts: 0 };
      }
    }
  }
}
