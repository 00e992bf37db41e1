import { after, before, describe } from 'node:test';
import { createTableStore } from '../../shared/adapters/tables/tableStore';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { newTableStore, partitionRows } from '../support/storeHarness';
import { describeAdmissionsContract } from './store/admissions.contract';
import { describeAuditLogContract } from './store/auditLog.contract';
import { describeAuditSearchContract } from './store/auditSearch.contract';
import { describeDirectoryContract } from './store/directory.contract';
import { describeDirectoryQueriesContract } from './store/directoryQueries.contract';
import { describeOutboxContract } from './store/outbox.contract';
import { describeRedriveScheduleContract } from './store/redriveSchedule.contract';
import type { StoreSubject } from './store/storeSubject';

const PARTITION = 'deployment-a';

let azurite: TestAzurite;

/** The Table role adapters over a fresh table of their own; what they persisted is every row of their partition. */
async function tableSubject(): Promise<StoreSubject> {
  const { table, ...ports } = await newTableStore(azurite.connectionString, { partition: PARTITION });
  return {
    ...ports,
    persisted: () => partitionRows(table, PARTITION),
    anotherDeployment: async () => createTableStore(table, 'deployment-b'),
  };
}

describe('the Table store on Azurite', () => {
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  describeDirectoryContract('TableDirectory keeps the Directory contract', tableSubject);
  describeAdmissionsContract('TableAdmissions keeps the Admissions contract', tableSubject);
  describeRedriveScheduleContract('TableRedriveSchedule keeps the RedriveSchedule contract', tableSubject);
  describeAuditLogContract('TableAuditLog keeps the AuditLog contract', tableSubject);
  describeAuditSearchContract('TableAuditSearch keeps the AuditSearch contract', tableSubject);
  describeOutboxContract('TableOutbox keeps the Outbox contract', tableSubject);
  describeDirectoryQueriesContract('TableDirectoryQueries keeps the DirectoryQueries contract', tableSubject);
});
