import type { VerificationKey } from '../../domain/signingKeys';
import type { ServiceDependencies } from '../dependencies';

/** What listing the keys needs. */
export type SigningKeySetDependencies = Pick<ServiceDependencies, 'auditLog' | 'checkpointSigner' | 'checkpointKeys'>;

/** Every key that verifies this deployment's checkpoints, and the key ids checkpoints name that none of them is. */
export interface SigningKeySet {
  /** The current signing key first, then the keys stored checkpoints name (newest first), then the other verify-only keys. */
  keys: VerificationKey[];
  /** Key ids stored checkpoints name that the key ring cannot resolve: those checkpoints verify as checkpoint_key_unknown. */
  missing: string[];
}

/**
 * The public keys an auditor needs to check this deployment's checkpoints without it: the signer's
 * current key, every key a stored checkpoint names (a Key Vault version is fetched by id, once), and
 * every verify-only key (AUDIT_VERIFY_KEYS). A key id nothing resolves is listed as missing rather
 * than left out silently, so the auditor knows which checkpoints no key here can check.
 */
export async function signingKeySet(deps: SigningKeySetDependencies): Promise<SigningKeySet> {
  const ring = deps.checkpointKeys;
  const wanted = new Set<string>();
  if (deps.checkpointSigner) wanted.add((await deps.checkpointSigner.key()).keyId);
  for (const checkpoint of await deps.auditLog.checkpoints()) if (checkpoint.keyId !== undefined) wanted.add(checkpoint.keyId);

  const keys = new Map<string, VerificationKey>();
  const missing: string[] = [];
  for (const keyId of wanted) {
    const key = ring ? await ring.publicKey(keyId) : undefined;
    if (key) keys.set(keyId, key);
    else missing.push(keyId);
  }
  for (const key of ring?.listedKeys() ?? []) if (!keys.has(key.keyId)) keys.set(key.keyId, key);
  return { keys: [...keys.values()], missing };
}
