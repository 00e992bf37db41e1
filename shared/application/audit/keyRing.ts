import { SigningAlgorithm, type VerificationKey } from '../../domain/signingKeys';
import type { CheckpointKeyRing } from '../ports/checkpointSigning';

/**
 * One ring of several: a key id is looked up in each in turn, the first that knows it answers. A
 * verifier holds the signer's ring first, then the verify-only keys (AUDIT_VERIFY_KEYS), so a
 * deployment that rotated its key, or moved from a local key to Key Vault, keeps verifying the
 * checkpoints its earlier keys signed.
 */
export function keyRingOf(rings: CheckpointKeyRing[]): CheckpointKeyRing {
  return {
    async publicKey(keyId) {
      for (const ring of rings) {
        const key = await ring.publicKey(keyId);
        if (key) return key;
      }
      return undefined;
    },
    legacyKeys: () => rings.flatMap((ring) => ring.legacyKeys()),
    listedKeys: () => rings.flatMap((ring) => ring.listedKeys()),
  };
}

/**
 * The ring of keys held in hand (a local signing key, verify-only keys), by their key ids; the
 * Ed25519 ones also verify checkpoints made before key ids (v1), which a local Ed25519 key signed.
 */
export function keyRingOfKeys(keys: readonly VerificationKey[]): CheckpointKeyRing {
  const byId = new Map(keys.map((key) => [key.keyId, key]));
  return {
    publicKey: (keyId) => Promise.resolve(byId.get(keyId)),
    legacyKeys: () => keys.filter((key) => key.algorithm === SigningAlgorithm.edDsa),
    listedKeys: () => [...keys],
  };
}
