import {
  ChainVerifier,
  type AuditCheckpoint,
  type ChainBreak,
  type CheckpointKeys,
  type VerificationReport,
} from '../../domain/auditVerification';
import type { VerificationKey } from '../../domain/signingKeys';
import { compareWithWitness } from '../../domain/witnesses';
import type { CheckpointKeyRing } from '../ports/checkpointSigning';
import type { ServiceDependencies } from '../dependencies';

/** What verifying needs. */
export type VerifyDependencies = Pick<ServiceDependencies, 'auditLog' | 'checkpointKeys' | 'auditWitness'>;

/**
 * Walks the whole audit log against its head and its signed checkpoints and reports where it first
 * stops fitting (see domain/auditVerification.ts). Streams the log: memory does not grow with it.
 */
export async function verifyAuditLog(deps: VerifyDependencies): Promise<VerificationReport> {
  const [head, { checkpoints, keys, breaks }] = await Promise.all([deps.auditLog.head(), witnessedCheckpoints(deps)]);
  const verifier = new ChainVerifier(head, checkpoints, keys);
  for (const broken of breaks) verifier.reportBreak(broken);
  for await (const positioned of deps.auditLog.records()) verifier.add(positioned);
  const { checkpointsChecked, ...report } = verifier.finish();
  return { ...report, checkpoints: checkpointSummary(checkpoints, checkpointsChecked, deps.checkpointKeys !== undefined) };
}

/** The report's `checkpoints`: how many were checked, the newest, whether keys were at hand, and how many each key signed. */
export function checkpointSummary(
  checkpoints: AuditCheckpoint[],
  checked: number,
  keysConfigured: boolean,
): VerificationReport['checkpoints'] {
  const newest = checkpoints[0];
  return {
    checked,
    newest: newest ? { sequence: newest.sequence, time: newest.time, keyId: newest.keyId ?? null } : null,
    signingKey: keysConfigured ? 'configured' : 'not configured',
    byKey: countByKey(checkpoints),
  };
}

/** The checkpoints a verification checks, the keys they name, and what the witness shows. */
export interface WitnessedCheckpoints {
  /** The table's checkpoints and the witness's copies the table lacks, newest first. */
  checkpoints: AuditCheckpoint[];
  keys: CheckpointKeys | undefined;
  /** checkpoint_missing and checkpoint_mismatch found by comparing the table with the witness. */
  breaks: ChainBreak[];
}

/**
 * The table's checkpoints and the blob witness's copies (when one is configured), compared. The
 * witness's copies the table lacks (deleted rows) are checked against their records and their
 * signatures like the table's own, so deleting a checkpoint hides nothing it vouched for.
 */
export async function witnessedCheckpoints(deps: VerifyDependencies, through = Number.MAX_SAFE_INTEGER): Promise<WitnessedCheckpoints> {
  const made = (checkpoint: AuditCheckpoint) => checkpoint.sequence <= through;
  const [stored, witnessed] = await Promise.all([deps.auditLog.checkpoints(), deps.auditWitness?.read() ?? []]);
  const table = stored.filter(made);
  const copies = witnessed.filter(made);
  const keys = deps.checkpointKeys ? await keysNamedBy([...table, ...copies], deps.checkpointKeys) : undefined;
  const witness = compareWithWitness(table, copies, keys);
  const checkpoints = [...table, ...witness.missing].sort((a, b) => b.sequence - a.sequence);
  return { checkpoints, keys, breaks: witness.breaks };
}

/** The ring's keys for every key id the checkpoints name, looked up once each (a Key Vault lookup is a request). */
async function keysNamedBy(checkpoints: AuditCheckpoint[], ring: CheckpointKeyRing): Promise<CheckpointKeys> {
  const byId = new Map<string, VerificationKey>();
  const keyIds = new Set(checkpoints.flatMap((checkpoint) => (checkpoint.keyId === undefined ? [] : [checkpoint.keyId])));
  for (const keyId of keyIds) {
    const key = await ring.publicKey(keyId);
    if (key) byId.set(keyId, key);
  }
  return { byId, legacy: ring.legacyKeys() };
}

/** How many checkpoints each key id signed, in order of first appearance (newest first); null for v1. */
function countByKey(checkpoints: AuditCheckpoint[]): Array<{ keyId: string | null; checkpoints: number }> {
  const counts = new Map<string | null, number>();
  for (const checkpoint of checkpoints) counts.set(checkpoint.keyId ?? null, (counts.get(checkpoint.keyId ?? null) ?? 0) + 1);
  return [...counts].map(([keyId, count]) => ({ keyId, checkpoints: count }));
}
