import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BreakKind, checkpointStatement, type AuditCheckpoint, type CheckpointKeys } from '../../../shared/domain/auditVerification';
import { jwkThumbprint, SigningAlgorithm, type VerificationKey } from '../../../shared/domain/signingKeys';
import { checkpointIdentity, compareWithWitness, distinctCheckpoints } from '../../../shared/domain/witnesses';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keyId = jwkThumbprint(privateKey);

function signed(sequence: number, hash = 'a'.repeat(64), time = '2026-11-20T10:00:00.000Z'): AuditCheckpoint {
  const unsigned = { sequence, hash, time, keyId, algorithm: SigningAlgorithm.edDsa };
  return { ...unsigned, signature: sign(null, checkpointStatement(unsigned), privateKey).toString('base64') };
}

const keys: CheckpointKeys = {
  byId: new Map<string, VerificationKey>([[keyId, { keyId, algorithm: SigningAlgorithm.edDsa, publicKey }]]),
  legacy: [],
};

describe('comparing the table with a witness', () => {
  it('finds nothing when the witness holds the same checkpoints, in any order, with members in any order', () => {
    const table = [signed(9), signed(4)];
    const reordered = table.map((c) => ({
      signature: c.signature,
      time: c.time,
      hash: c.hash,
      sequence: c.sequence,
      algorithm: c.algorithm,
      keyId: c.keyId,
    }));
    assert.deepEqual(compareWithWitness(table, [...reordered].reverse()), { missing: [], breaks: [] });
  });

  it('names a checkpoint the table lacks as checkpoint_missing and hands its copy back for checking', () => {
    const deleted = signed(4);
    const result = compareWithWitness([signed(9)], [deleted, signed(9)]);
    assert.deepEqual(result.missing, [deleted]);
    assert.deepEqual(
      result.breaks.map((b) => [b.sequence, b.kind]),
      [[4, BreakKind.checkpointMissing]],
    );
  });

  it("names a copy that differs from the table's as checkpoint_mismatch, saying whose signature holds", () => {
    const original = signed(4);
    const replaced = { ...original, hash: 'b'.repeat(64) };
    const result = compareWithWitness([replaced], [original], keys);
    assert.deepEqual(result.missing, []);
    assert.deepEqual(
      result.breaks.map((b) => [b.sequence, b.kind]),
      [[4, BreakKind.checkpointMismatch]],
    );
    assert.match(result.breaks[0]?.detail ?? '', /the witness's signature holds, the table's does not hold/);
  });

  it('dedupes identical copies (an append repeated after a crash), keeping distinct ones', () => {
    const one = signed(4);
    const other = signed(4, 'c'.repeat(64));
    assert.deepEqual(distinctCheckpoints([one, { ...one }, other, one]).map(checkpointIdentity), [
      checkpointIdentity(one),
      checkpointIdentity(other),
    ]);
  });
});
