import type { TransactionAction } from '@azure/data-tables';
import type { AuditRecord } from '../../domain/audit';
import { ChangeRequestStatus, type ChangeRequest } from '../../domain/changeRequest';
import type { AddressHolder, DirectoryWrite } from '../../domain/directory';
import type { ScheduledRedrive } from '../../application/ports/redriveSchedule';
import type { PartitionTable, Row } from './partitionTable';
import { rowKeys, type AuditIndex, type ChangeRequestIndex } from './rowKeys';

/** How the directory's values become rows (see rowKeys.ts for the layout); shared by the role adapters. */

/** An address's holder, with the columns endpoint listings and the topology filter on. */
export function holderEntity(table: PartitionTable, holder: AddressHolder): Row {
  const columns =
    holder.kind === 'endpoint'
      ? {
          holderKind: 'endpoint',
          sipAddress: holder.sipAddress,
          poolFqdn: holder.poolFqdn,
          displayName: holder.displayName ?? '',
          isDefault: holder.isDefault,
        }
      : { holderKind: 'user', sipAddress: holder.sipAddress, displayName: holder.displayName ?? '', isDefault: false };
  return table.entity(rowKeys.address(holder.sipAddress), holder, columns);
}

/** A change request's row, with its status as a column. */
export function changeRequestEntity(table: PartitionTable, request: ChangeRequest): Row {
  return table.entity(rowKeys.changeRequest(request.id), request, { status: request.status });
}

/**
 * The listings a change request appears in: all, its actor's, its status's and, when it parsed, its
 * address's and its operation's. A submitter's listing is its actor's, so it reads only its own.
 */
export function changeRequestIndexes(request: ChangeRequest): ChangeRequestIndex[] {
  const indexes: ChangeRequestIndex[] = [
    { index: 'all' },
    { index: 'actor', actor: request.actor },
    { index: 'status', status: request.status },
  ];
  if (request.request !== null) {
    indexes.push(
      { index: 'address', sipAddress: request.request.sipAddress },
      { index: 'operation', operation: request.request.operation },
    );
  }
  return indexes;
}

/**
 * A change request's index rows: each a whole copy, so a listing reads only the rows it returns, with
 * the columns the other filters of a listing are applied on by the service.
 */
export function changeRequestIndexEntities(table: PartitionTable, request: ChangeRequest): Row[] {
  const columns = {
    status: request.status,
    actor: request.actor,
    channel: request.channel,
    sipAddress: request.request?.sipAddress ?? '',
    operation: request.request?.operation ?? '',
    acceptedAt: request.acceptedAt,
  };
  return changeRequestIndexes(request).map((index) =>
    table.entity(rowKeys.changeRequestIndexed(index, request.acceptedAt, request.id), request, columns),
  );
}

/**
 * The transaction actions that record a request as it now stands, given its status as stored before
 * (undefined: first recorded here): its row and index rows rewritten, and its row in the listing of its old status removed.
 */
export function changeRequestActions(
  table: PartitionTable,
  request: ChangeRequest,
  storedStatus: ChangeRequest['status'] | undefined,
): TransactionAction[] {
  const actions: TransactionAction[] = [
    ['upsert', changeRequestEntity(table, request), 'Replace'],
    ...changeRequestIndexEntities(table, request).map((row): TransactionAction => ['upsert', row, 'Replace']),
  ];
  if (storedStatus !== undefined && storedStatus !== request.status) {
    const stale = rowKeys.changeRequestIndexed({ index: 'status', status: storedStatus }, request.acceptedAt, request.id);
    actions.push(['delete', table.key(stale)]);
  }
  return actions;
}

/** A waiting request's row in its address's waiting list, with the columns the re-driver filters on. */
export function scheduledRedriveEntity(table: PartitionTable, entry: ScheduledRedrive): Row {
  const { request, ticket } = entry.changeRequest;
  return table.entity(rowKeys.waiting(request.sipAddress, ticket), entry, { redriveAt: entry.redriveAt, sends: entry.sends });
}

/** An audit record's row and its index rows (subject, actor, onBehalfOf, type, outcome, change request, correlation), all in its commit. */
export function auditEntities(table: PartitionTable, record: AuditRecord): Row[] {
  const columns = {
    sequence: record.sequence,
    time: record.time,
    action: record.action,
    actor: record.actor,
    subject: record.subject,
    outcome: record.outcome.status,
    changeRequestId: record.changeRequestId ?? '',
    correlationId: record.correlationId,
    ...(record.onBehalfOf === undefined ? {} : { onBehalfOf: record.onBehalfOf }),
  };
  const indexed: Array<[AuditIndex, string | null]> = [
    ['actor', record.actor],
    ['onBehalfOf', record.onBehalfOf ?? null],
    ['type', record.action],
    ['outcome', record.outcome.status],
    ['changeRequest', record.changeRequestId],
    ['correlation', record.correlationId],
  ];
  return [
    table.entity(rowKeys.audit(record.sequence), record, columns),
    table.entity(rowKeys.auditBySubject(record.subject, record.sequence), record, columns),
    ...indexed.flatMap(([dimension, value]) =>
      value === null ? [] : [table.entity(rowKeys.auditIndex(dimension, value, record.sequence), record, columns)],
    ),
  ];
}

/** The transaction action for one write the rules decided. */
export function writeAction(table: PartitionTable, write: DirectoryWrite): TransactionAction {
  switch (write.type) {
    case 'putHolder':
      return ['upsert', holderEntity(table, write.holder), 'Replace'];
    case 'removeHolder':
      return ['delete', table.key(rowKeys.address(write.sipAddress))];
    case 'putPool':
      return ['upsert', table.entity(rowKeys.pool(write.pool.fqdn), write.pool), 'Replace'];
    case 'removePool':
      return ['delete', table.key(rowKeys.pool(write.fqdn))];
    case 'putDomain':
      return ['upsert', table.entity(rowKeys.domain(write.domain.name), write.domain), 'Replace'];
    case 'removeDomain':
      return ['delete', table.key(rowKeys.domain(write.name))];
  }
}

/** A settled request gives up its place in its waiting list in the commit that settles it. */
export function leaveWaitingList(table: PartitionTable, request: ChangeRequest): TransactionAction[] {
  if (request.ticket === null || request.request === null || request.status === ChangeRequestStatus.accepted) return [];
  return [['delete', table.key(rowKeys.waiting(request.request.sipAddress, request.ticket))]];
}
