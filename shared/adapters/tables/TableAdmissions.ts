import { odata, type TransactionAction } from '@azure/data-tables';
import { namesLikelyNewAddress, type ChangeRequest, type ValidChangeRequest, type WaitingChangeRequest } from '../../domain/changeRequest';
import { ConcurrencyError } from '../../domain/errors';
import type { SipAddress } from '../../domain/names';
import type { Admission, AdmissionOptions, Admissions, IdempotencyRecord } from '../../application/ports/admissions';
import type { ScheduledRedrive } from '../../application/ports/redriveSchedule';
import { statusOf } from '../azureErrors';
import { changeRequestEntity, changeRequestIndexEntities, scheduledRedriveEntity } from './entities';
import { parse, type PartitionTable, type StoredRow } from './partitionTable';
import { rowKeys } from './rowKeys';

/** The counter row of a SIP address's waiting list: the last ticket drawn. */
interface LastTicket {
  sipAddress: SipAddress;
  lastTicket: number;
}

/** An Idempotency-Key's expiry entry: enough to find and delete the key when it expires. */
type ExpiryEntry = Pick<IdempotencyRecord, 'scope' | 'key' | 'expiresAt'>;

/**
 * Admissions on Azure Table Storage: one transaction draws the address's next ticket (guarded by the
 * counter row's ETag), records the request and its place in the waiting list, and its Idempotency-Key.
 *
 * A create most often names an address never used before, whose counter does not exist yet: it is
 * admitted without reading the counter, as the address's first ticket (the transaction creates the
 * counter, so it fails whole if the address has one), and only then, if it must, read and tried again.
 * A request with the first ticket is first in its waiting list; `firstInLine` is told of it (the
 * directory keeps it, so this process's writer need not look the request up).
 */
export class TableAdmissions implements Admissions {
  constructor(
    private readonly table: PartitionTable,
    private readonly firstInLine: (admitted: WaitingChangeRequest) => void = () => undefined,
  ) {}

  async admit(changeRequest: ValidChangeRequest, options: AdmissionOptions): Promise<Admission> {
    const keyRowKey = options.idempotency ? rowKeys.idempotencyKey(options.idempotency.scope, options.idempotency.key) : undefined;
    const likelyNewAddress = namesLikelyNewAddress(changeRequest.request);
    const [counterRow, keyRow] = await Promise.all([
      likelyNewAddress ? undefined : this.table.row(rowKeys.lastTicket(changeRequest.request.sipAddress)),
      keyRowKey ? this.table.row(keyRowKey) : undefined,
    ]);
    const heldKey = parse<IdempotencyRecord>(keyRow);
    if (heldKey && heldKey.expiresAt > options.now.toISOString()) return { outcome: 'key-taken', idempotency: heldKey };
    try {
      return await this.draw(changeRequest, counterRow, keyRow, heldKey, options);
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      // Another admission won the counter, the key or (a redelivered message) the id: the id is final, the rest is tried again.
      const existing = await this.table.value<ChangeRequest>(rowKeys.changeRequest(changeRequest.id));
      if (existing) return { outcome: 'id-taken', changeRequest: existing };
      if (!likelyNewAddress) throw error;
    }
    // The address had a counter after all (or another admission just made it): draw after it.
    return this.draw(changeRequest, await this.table.row(rowKeys.lastTicket(changeRequest.request.sipAddress)), keyRow, heldKey, options);
  }

  /** One transaction: the ticket after `counterRow`'s (the first, if there is none), the request, and the key. */
  private async draw(
    changeRequest: ValidChangeRequest,
    counterRow: StoredRow | undefined,
    keyRow: StoredRow | undefined,
    heldKey: IdempotencyRecord | undefined,
    options: AdmissionOptions,
  ): Promise<Admission> {
    const admitted: WaitingChangeRequest = { ...changeRequest, ticket: (parse<LastTicket>(counterRow)?.lastTicket ?? 0) + 1 };
    await this.table.transact([
      ...this.ticketActions(admitted, counterRow, options),
      ...this.keyActions(admitted, keyRow, heldKey, options),
    ]);
    if (admitted.ticket === 1) this.firstInLine(admitted);
    return { outcome: 'admitted', changeRequest: admitted };
  }

  async purgeExpiredIdempotencyKeys(now: Date, limit: number): Promise<number> {
    // The expiry entries sort by time, so this reads the expired keys and stops: no scan of live keys.
    const expired = await this.table.values<ExpiryEntry>(rowKeys.idempotencyExpiryPrefix, limit, {
      filter: odata`RowKey lt ${rowKeys.idempotencyExpiry(now.toISOString(), '', '')}`,
    });
    let purged = 0;
    for (const { scope, key, expiresAt } of expired) {
      try {
        await this.table.transact([
          ['delete', this.table.key(rowKeys.idempotencyKey(scope, key))],
          ['delete', this.table.key(rowKeys.idempotencyExpiry(expiresAt, scope, key))],
        ]);
        purged++;
      } catch (error) {
        // A new admission took the key over (and removed this entry) since it was listed.
        if (!(error instanceof ConcurrencyError) && statusOf(error) !== 404) throw error;
      }
    }
    return purged;
  }

  /** The counter moves on (ETag-guarded), the request is recorded, and it takes its place in its waiting list. */
  private ticketActions(admitted: WaitingChangeRequest, counterRow: StoredRow | undefined, options: AdmissionOptions): TransactionAction[] {
    const sipAddress = admitted.request.sipAddress;
    const counter = this.table.entity(rowKeys.lastTicket(sipAddress), { sipAddress, lastTicket: admitted.ticket } satisfies LastTicket);
    const waiting: ScheduledRedrive = { changeRequest: admitted, redriveAt: options.redriveAt.toISOString(), sends: 1 };
    return [
      counterRow ? ['update', counter, 'Replace', { etag: counterRow.etag }] : ['create', counter],
      ['create', changeRequestEntity(this.table, admitted)],
      // Its place in every listing, in the same step, so a listing never disagrees with the request.
      ...changeRequestIndexEntities(this.table, admitted).map((row): TransactionAction => ['create', row]),
      ['create', scheduledRedriveEntity(this.table, waiting)],
    ];
  }

  /** The Idempotency-Key and its expiry entry; an expired key is taken over in place, its ETag keeping a concurrent takeover from winning twice. */
  private keyActions(
    admitted: ChangeRequest,
    keyRow: StoredRow | undefined,
    heldKey: IdempotencyRecord | undefined,
    options: AdmissionOptions,
  ): TransactionAction[] {
    if (!options.idempotency) return [];
    const { scope, key, expiresAt } = options.idempotency;
    const keyEntity = this.table.entity(rowKeys.idempotencyKey(scope, key), {
      ...options.idempotency,
      changeRequest: admitted,
    } satisfies IdempotencyRecord);
    const actions: TransactionAction[] = [keyRow ? ['update', keyEntity, 'Replace', { etag: keyRow.etag }] : ['create', keyEntity]];
    if (heldKey) actions.push(['delete', this.table.key(rowKeys.idempotencyExpiry(heldKey.expiresAt, scope, key))]);
    actions.push([
      'create',
      this.table.entity(rowKeys.idempotencyExpiry(expiresAt, scope, key), { scope, key, expiresAt } satisfies ExpiryEntry),
    ]);
    return actions;
  }
}
