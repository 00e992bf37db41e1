import type { TableClient } from '@azure/data-tables';
import type { DirectoryTableClient } from '../../shared/adapters/tables/partitionTable';

/** A TableClient that counts the rows the service sends back, page by page, so a test can see what a query touched. */
export function counting(table: TableClient): DirectoryTableClient & { rowsRead: number } {
  const counter = {
    rowsRead: 0,
    createTable: table.createTable.bind(table),
    createEntity: table.createEntity.bind(table),
    updateEntity: table.updateEntity.bind(table),
    deleteEntity: table.deleteEntity.bind(table),
    submitTransaction: table.submitTransaction.bind(table),
    getEntity: (async (...args: Parameters<TableClient['getEntity']>) => {
      counter.rowsRead++;
      return table.getEntity(...args);
    }) as TableClient['getEntity'],
    listEntities: ((...args: Parameters<TableClient['listEntities']>) => {
      const rows = table.listEntities(...args);
      return {
        byPage: (settings: Parameters<typeof rows.byPage>[0]) =>
          (async function* () {
            for await (const page of rows.byPage(settings)) {
              counter.rowsRead += page.length;
              yield page;
            }
          })(),
      };
    }) as unknown as TableClient['listEntities'],
  };
  return counter;
}
