import type { CheckpointKeyRing } from '../ports/checkpointSigning';

/**
 * One ring of several: a key id is looked up in each in turn. A verifier holds the local key and the
 * Key Vault key side by side when a log holds checkpoints of both (a deployment that moved from one
 * to the other keeps verifying its older checkpoints).
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
    legacyKey: () => rings.map((ring) => ring.legacyKey()).find((key) => key !== undefined),
  };
}
