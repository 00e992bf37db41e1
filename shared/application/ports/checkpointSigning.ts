import type { CheckpointSigningKey } from '../../domain/auditVerification';
import type { VerificationKey } from '../../domain/signingKeys';

/**
 * What signs audit checkpoints: a local PEM key, or a Key Vault key the app may use but never holds.
 * The key is resolved once (Key Vault: on first use, pinned to the version it found), so the key id
 * a checkpoint states is the key that signs it.
 */
export interface CheckpointSigner {
  /** The key that signs: its id and algorithm go into the signed statement. */
  key(): Promise<CheckpointSigningKey>;
  /** The signature of `statement` (EdDSA: Ed25519; ES256: IEEE P1363 r || s of its SHA-256). */
  sign(statement: Uint8Array): Promise<Uint8Array>;
}

/** The public keys a verifier checks checkpoints with, by key id. */
export interface CheckpointKeyRing {
  /** The key with this id, or undefined when the ring does not know it. */
  publicKey(keyId: string): Promise<VerificationKey | undefined>;
  /**
   * The keys checkpoints made before key ids (v1) may have been signed with: the Ed25519 keys the
   * ring holds (the local key, verify-only keys); one that verifies a v1 checkpoint suffices.
   */
  legacyKeys(): VerificationKey[];
  /**
   * The keys the ring holds without a lookup (the local key, verify-only keys), for the JWK set
   * GET /api/audit/signing-keys serves; Key Vault versions are looked up by id instead.
   */
  listedKeys(): VerificationKey[];
}
