import { encodeCursor } from './cursors';
import { parse, type StoredRow } from './partitionTable';
import type { Page } from '../../application/ports/directoryQueries';

/**
 * The first `limit` values of the scanned rows that `keep` accepts, and a cursor when more remain.
 * Reads one row past the page to know whether there is a next one, then stops the scan.
 */
export async function pageOf<T>(rows: AsyncGenerator<StoredRow>, limit: number, keep: (value: T) => boolean): Promise<Page<T>> {
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
