import type { TableClient } from '@azure/data-tables';
import type { DirectoryTableClient } from '../../shared/adapters/tables/partitionTable';

/** What a counting client has seen since its counters were last reset. */
export interface ReadCounts {
  /** Rows the service sent back (a point read that found nothing counts as one). */
  rowsRead: number;
  /** Reads sent: point reads and query pages. */
  reads: number;
  /** Rounds of reads: a round starts when a read is sent while none is in flight, so reads sent together count once. */
  rounds: number;
}

/**
 * A TableClient that counts the rows the service sends back, page by page, so a test can see what a
 * query touched; and the reads it sent and the rounds they went in, so a test can see how many
 * round trips a query waited for one after another.
 */
export function counting(table: TableClient): DirectoryTableClient & ReadCounts {
  let inFlight = 0;
  /**
   * Runs one read, counting it and, if none was in flight, the round it starts; unless `sent` says
   * it sent nothing (a page iterator that knows it is done answers without a request).
   */
  async function read<T>(send: () => Promise<T>, sent: (result: T) => boolean = () => true): Promise<T> {
    const startsRound = inFlight++ === 0;
    try {
      const result = await send();
      if (sent(result)) {
        counter.reads++;
        if (startsRound) counter.rounds++;
      }
      return result;
    } finally {
      inFlight--;
    }
  }
  const counter = {
    rowsRead: 0,
    reads: 0,
    rounds: 0,
    createTable: table.createTable.bind(table),
    createEntity: table.createEntity.bind(table),
    updateEntity: table.updateEntity.bind(table),
    deleteEntity: table.deleteEntity.bind(table),
    submitTransaction: table.submitTransaction.bind(table),
    getEntity: (async (...args: Parameters<TableClient['getEntity']>) => {
      counter.rowsRead++;
      return read(() => table.getEntity(...args));
    }) as TableClient['getEntity'],
    listEntities: ((...args: Parameters<TableClient['listEntities']>) => {
      const rows = table.listEntities(...args);
      return {
        byPage: (settings: Parameters<typeof rows.byPage>[0]) =>
          (async function* () {
            const pages = rows.byPage(settings);
            try {
              for (;;) {
                const next = await read(
                  () => pages.next(),
                  (result) => !result.done,
                );
                if (next.done) return;
                counter.rowsRead += next.value.length;
                yield next.value;
              }
            } finally {
              // A reader that stops early ends the service's pages too, as `for await` would.
              await pages.return?.(undefined);
            }
          })(),
      };
    }) as unknown as TableClient['listEntities'],
  };
  return counter;
}
