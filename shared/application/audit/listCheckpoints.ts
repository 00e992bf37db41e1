import { signedCheckpoint, type AuditCheckpoint } from '../../domain/auditVerification';
import type { ServiceDependencies } from '../dependencies';
import type { WitnessedCheckpoint } from '../ports/auditLog';

/** A checkpoint as the API answers it: its six signed members, plus (not signed) what its witnesses have of it. */
export type ListedCheckpoint = AuditCheckpoint & { witnesses: { event: WitnessedCheckpoint['event']; blob: WitnessedCheckpoint['blob'] } };

/** One page of checkpoints, newest first, each with its witnesses' status. */
export async function listCheckpoints(
  deps: Pick<ServiceDependencies, 'auditLog'>,
  page: { limit: number; cursor?: string },
): Promise<{ items: ListedCheckpoint[]; nextCursor: string | null }> {
  const { items, nextCursor } = await deps.auditLog.checkpointPage(page.limit, page.cursor);
  return {
    items: items.map(({ checkpoint, event, blob }) => ({ ...signedCheckpoint(checkpoint), witnesses: { event, blob } })),
    nextCursor,
  };
}

/** Every checkpoint, newest first, read a thousand at a time: the checkpoints file of an offline verification. */
export async function* allCheckpoints(deps: Pick<ServiceDependencies, 'auditLog'>): AsyncIterable<AuditCheckpoint> {
  let cursor: string | undefined;
  do {
    const page = await deps.auditLog.checkpointPage(1000, cursor);
    for (const item of page.items) yield signedCheckpoint(item.checkpoint);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}
