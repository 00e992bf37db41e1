import type { ContainerClient } from '@azure/storage-blob';
import { signedCheckpoint, type AuditCheckpoint } from '../../domain/auditVerification';
import type { AuditWitness } from '../../application/ports/auditWitness';
import { distinctCheckpoints } from '../../domain/witnesses';
import { statusOf } from '../azureErrors';

/**
 * The blob witness: every checkpoint appended, as one JSON line, to an append blob per UTC day,
 * `checkpoints/YYYY-MM-DD.ndjson`, in a container that Azure keeps under a time-based immutability
 * (WORM) policy with protected append writes allowed: a blob can be appended to, never rewritten or
 * deleted, not even by the app's own identity once an operator locks the policy.
 *
 * Why a blob per day and not per checkpoint: a verification reads the witness back, and a year of
 * 5-minute checkpoints is 105,000 of them; per day that is 365 downloads (288 lines each) instead of
 * 105,000. The price is that appends cannot be made conditional on content: an append repeated after
 * a crash (written, but the table row not yet marked) leaves an identical line twice, which reading
 * dedupes. A different copy of a sequence cannot replace the first one either: both stay, and the
 * verifier compares each with the table.
 */

/** The blob folder the day files live in. */
export const WITNESS_FOLDER = 'checkpoints/';

/** The day file a checkpoint goes to: its signing time's UTC date. */
export function witnessBlobName(checkpoint: Pick<AuditCheckpoint, 'time'>): string {
  return `${WITNESS_FOLDER}${checkpoint.time.slice(0, 10)}.ndjson`;
}

/** One checkpoint's line: its signed members only, so the copy verifies as it is. */
export function witnessLine(checkpoint: AuditCheckpoint): string {
  return `${JSON.stringify(signedCheckpoint(checkpoint))}\n`;
}

/** Whether a parsed line has the shape of a checkpoint (a line that does not is not a copy of anything). */
function isCheckpoint(value: unknown): value is AuditCheckpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(c.sequence) &&
    typeof c.hash === 'string' &&
    typeof c.time === 'string' &&
    typeof c.signature === 'string' &&
    (c.keyId === undefined || typeof c.keyId === 'string') &&
    (c.algorithm === undefined || typeof c.algorithm === 'string')
  );
}

/** The checkpoints a day file holds; lines that are not checkpoints are skipped. */
export function parseWitnessLines(text: string): AuditCheckpoint[] {
  const found: AuditCheckpoint[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (isCheckpoint(value)) found.push(value);
    } catch {
      // A torn or foreign line vouches for nothing; the lines around it still count.
    }
  }
  return found;
}

export class BlobAuditWitness implements AuditWitness {
  constructor(private readonly container: ContainerClient) {}

  async write(checkpoints: AuditCheckpoint[]): Promise<void> {
    const byDay = new Map<string, string>();
    for (const checkpoint of checkpoints) {
      const name = witnessBlobName(checkpoint);
      byDay.set(name, (byDay.get(name) ?? '') + witnessLine(checkpoint));
    }
    for (const [name, lines] of byDay) await this.append(name, lines);
  }

  async read(): Promise<AuditCheckpoint[]> {
    const copies: AuditCheckpoint[] = [];
    try {
      for await (const blob of this.container.listBlobsFlat({ prefix: WITNESS_FOLDER })) {
        const content = await this.container.getBlobClient(blob.name).downloadToBuffer();
        copies.push(...parseWitnessLines(content.toString('utf8')));
      }
    } catch (error) {
      // No container yet: nothing has been witnessed.
      if (statusOf(error) === 404) return [];
      throw error;
    }
    return distinctCheckpoints(copies);
  }

  /** Appends lines to a day file, creating it (create-only: If-None-Match *) and, locally, the container. */
  private async append(name: string, lines: string): Promise<void> {
    const blob = this.container.getAppendBlobClient(name);
    try {
      await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'application/x-ndjson; charset=utf-8' } });
    } catch (error) {
      // In Azure the Bicep declares the container (the app may not create it); Azurite starts without it.
      if (statusOf(error) !== 404) throw error;
      await this.container.createIfNotExists();
      await blob.createIfNotExists({ blobHTTPHeaders: { blobContentType: 'application/x-ndjson; charset=utf-8' } });
    }
    const body = Buffer.from(lines, 'utf8');
    await blob.appendBlock(body, body.length);
  }
}
