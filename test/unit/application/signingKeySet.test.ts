import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyRingOf, keyRingOfKeys } from '../../../shared/application/audit/keyRing';
import { signingKeySet, type SigningKeySetDependencies } from '../../../shared/application/audit/signingKeySet';
import type { AuditLog } from '../../../shared/application/ports/auditLog';
import type { CheckpointKeyRing, CheckpointSigner } from '../../../shared/application/ports/checkpointSigning';
import type { AuditCheckpoint } from '../../../shared/domain/auditVerification';
import { thumbprintKey, type VerificationKey } from '../../../shared/domain/signingKeys';

const aKey = (): VerificationKey => thumbprintKey(generateKeyPairSync('ed25519').publicKey) as VerificationKey;
const checkpointBy = (sequence: number, keyId?: string): AuditCheckpoint => ({
  sequence,
  hash: 'ab'.repeat(32),
  time: '2026-11-26T10:00:00.000Z',
  ...(keyId ? { keyId, algorithm: 'EdDSA' as const } : {}),
  signature: 'c2ln',
});

/** The use case's dependencies over fakes: stored checkpoints (newest first), a signer of `current`, a ring. */
function deps(checkpoints: AuditCheckpoint[], current: VerificationKey | undefined, ring: CheckpointKeyRing | undefined) {
  const auditLog = { checkpoints: () => Promise.resolve(checkpoints) } as unknown as AuditLog;
  const signer: CheckpointSigner | undefined = current && {
    key: () => Promise.resolve({ keyId: current.keyId, algorithm: current.algorithm }),
    sign: () => Promise.reject(new Error('listing keys signs nothing')),
  };
  const dependencies: SigningKeySetDependencies = { auditLog };
  if (signer) dependencies.checkpointSigner = signer;
  if (ring) dependencies.checkpointKeys = ring;
  return dependencies;
}

describe('signingKeySet', () => {
  it('lists the current key, then the keys checkpoints name (newest first), then the other verify-only keys, each once', async () => {
    const [current, older, oldest, spare] = [aKey(), aKey(), aKey(), aKey()];
    const ring = keyRingOf([keyRingOfKeys([current]), keyRingOfKeys([spare, oldest, older])]);
    const stored = [checkpointBy(9, current.keyId), checkpointBy(7, older.keyId), checkpointBy(5, oldest.keyId), checkpointBy(3)];

    const set = await signingKeySet(deps(stored, current, ring));

    assert.deepEqual(
      set.keys.map((key) => key.keyId),
      [current, older, oldest, spare].map((key) => key.keyId),
    );
    assert.deepEqual(set.missing, []);
  });

  it('lists the key ids no key resolves as missing, and without any ring every named id is missing', async () => {
    const current = aKey();
    const gone = 'https://contoso-audit.vault.azure.net/keys/audit-signing/0123456789abcdef0123456789abcdef';
    const stored = [checkpointBy(4, current.keyId), checkpointBy(2, gone)];

    const withRing = await signingKeySet(deps(stored, current, keyRingOfKeys([current])));
    assert.deepEqual([withRing.keys.map((key) => key.keyId), withRing.missing], [[current.keyId], [gone]]);

    const signingOff = await signingKeySet(deps(stored, undefined, undefined));
    assert.deepEqual([signingOff.keys, signingOff.missing], [[], [current.keyId, gone]]);
  });
});
