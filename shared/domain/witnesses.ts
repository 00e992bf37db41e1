import { canonicalJson } from './audit';
import {
  BreakKind,
  checkpointSignatureBreak,
  signedCheckpoint,
  type AuditCheckpoint,
  type ChainBreak,
  type CheckpointKeys,
} from './auditVerification';

/**
 * Comparing the table's checkpoints with a witness's copies (the blob container, a subscriber's
 * saved events). Whoever can rewrite the table can delete or replace its checkpoint rows too; a
 * witness they cannot reach still holds the originals, and every difference is a break.
 */

/** How the two copies are named in a break's detail (the server: the table and the blob witness; offline: the files). */
export interface CopyNames {
  table: string;
  witness: string;
}

/** What a witness adds to a verification. */
export interface WitnessComparison {
  /** Witness copies of checkpoints the table lacks: deleted rows (check these against the records too). */
  missing: AuditCheckpoint[];
  /** A checkpoint_missing for each of `missing`, a checkpoint_mismatch for each copy that differs from the table's. */
  breaks: ChainBreak[];
}

/** The signed members of a checkpoint, as one comparable string (a copy may carry more, or order them otherwise). */
export function checkpointIdentity(checkpoint: AuditCheckpoint): string {
  return canonicalJson(signedCheckpoint(checkpoint));
}

/** The witness's copies without duplicates (an append repeated after a crash), in sequence order. */
export function distinctCheckpoints(copies: AuditCheckpoint[]): AuditCheckpoint[] {
  const seen = new Map<string, AuditCheckpoint>();
  for (const copy of copies) seen.set(checkpointIdentity(copy), copy);
  return [...seen.values()].sort((a, b) => a.sequence - b.sequence);
}

/**
 * Compares the table's checkpoints with a witness's: a copy at a sequence the table has no checkpoint
 * for is checkpoint_missing (a deleted row), a copy that differs from the table's at its sequence is
 * checkpoint_mismatch (a replaced row). With keys, each differing copy's detail says whose signature
 * holds, so the reader knows which of the two is the original.
 */
export function compareWithWitness(
  table: AuditCheckpoint[],
  witness: AuditCheckpoint[],
  keys?: CheckpointKeys,
  names: CopyNames = { table: 'the table', witness: 'the witness' },
): WitnessComparison {
  const bySequence = new Map(table.map((checkpoint) => [checkpoint.sequence, checkpoint]));
  const missing: AuditCheckpoint[] = [];
  const breaks: ChainBreak[] = [];
  for (const copy of distinctCheckpoints(witness)) {
    const stored = bySequence.get(copy.sequence);
    if (!stored) {
      missing.push(copy);
      breaks.push({
        sequence: copy.sequence,
        kind: BreakKind.checkpointMissing,
        detail: `${names.witness} holds a checkpoint of record ${copy.sequence} (signed ${copy.time}) that ${names.table} lacks: it was deleted`,
      });
    } else if (checkpointIdentity(copy) !== checkpointIdentity(stored)) {
      breaks.push({
        sequence: copy.sequence,
        kind: BreakKind.checkpointMismatch,
        detail: `${names.table}'s checkpoint of record ${copy.sequence} differs from ${names.witness}'s copy${signatureNote(copy, stored, keys, names)}`,
      });
    }
  }
  return { missing, breaks };
}

/** Which of two differing copies carries a signature that holds, when the keys are known. */
function signatureNote(copy: AuditCheckpoint, stored: AuditCheckpoint, keys: CheckpointKeys | undefined, names: CopyNames): string {
  if (!keys) return '';
  const copyHolds = checkpointSignatureBreak(copy, keys) === undefined;
  const storedHolds = checkpointSignatureBreak(stored, keys) === undefined;
  return ` (${names.witness}'s signature ${copyHolds ? 'holds' : 'does not hold'}, ${names.table}'s ${storedHolds ? 'holds' : 'does not hold'})`;
}
