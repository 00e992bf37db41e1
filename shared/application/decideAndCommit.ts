import type { AuditRecord } from '../domain/audit';
import type { DirectoryView } from '../domain/directory';
import { DirectoryWriter, type CommitDependencies, type Decide } from './directoryWriter';
import type { Directory, DirectoryReads, DirectorySnapshot } from './ports/directory';
import { publishEvents } from './publishEvents';

export type { CommitDependencies, Decide, Decided, Plan } from './directoryWriter';

/** The directory view a domain decision reads, over a snapshot. */
export function viewOf(snapshot: DirectorySnapshot): DirectoryView {
  return {
    domain: (name) => snapshot.domains.get(name),
    pool: (fqdn) => snapshot.pools.get(fqdn),
    holder: (sipAddress) => snapshot.holders.get(sipAddress),
    domainInUse: (name) => snapshot.domainsInUse.has(name),
  };
}

/**
 * One writer per directory (per composition): its decisions take turns there and share commits.
 * Keyed by the directory itself rather than passed in, so that a directory wrapped by a caller (a
 * test that injects faults) gets a writer that commits through the wrapper.
 */
const writers = new WeakMap<Directory, DirectoryWriter>();

function writerOf(directory: Directory): DirectoryWriter {
  let writer = writers.get(directory);
  if (writer === undefined) {
    writer = new DirectoryWriter(directory);
    writers.set(directory, writer);
  }
  return writer;
}

/**
 * Read → decide → commit, decided again on fresh state while other writers win the race. The state
 * change, the change-request statuses, the audit records and their events commit together (with
 * other decisions waiting at the same time, see DirectoryWriter); the events are then published
 * from the outbox (and stay there for the re-driver if publishing fails).
 */
export async function decideAndCommit<R>(
  deps: CommitDependencies,
  reads: DirectoryReads,
  decide: Decide<R>,
): Promise<{ result: R; records: AuditRecord[] }> {
  // Reading ahead, outside the writer's turn, so the snapshot taken in it is answered from memory.
  await deps.directory.snapshot(reads, 'cached');
  const committed = await writerOf(deps.directory).run(deps, reads, decide);
  await publishEvents(deps, committed.outbox);
  return { result: committed.result, records: committed.records };
}
