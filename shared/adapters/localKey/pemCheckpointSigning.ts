import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { CheckpointKeyRing, CheckpointSigner } from '../../application/ports/checkpointSigning';
import { keyRingOfKeys } from '../../application/audit/keyRing';
import { ConfigurationError, ErrorCode } from '../../domain/errors';
import { SigningAlgorithm, thumbprintKey, type VerificationKey } from '../../domain/signingKeys';

/** A local key's signer and the ring that verifies what it signed. */
export interface LocalCheckpointSigning {
  signer: CheckpointSigner;
  keyRing: CheckpointKeyRing;
}

/**
 * Signing with a private key held by the process (AUDIT_SIGNING_KEY; `npm start` makes one in the
 * data folder): Ed25519 (EdDSA) or EC P-256 (ES256). Its key id is the RFC 7638 thumbprint of its
 * public key. A bad key is a ConfigurationError naming the setting, never quoting it.
 */
/** `setting` names where the key came from (AUDIT_SIGNING_KEY), for error messages. */
export function pemCheckpointSigning(pem: string, setting: string): LocalCheckpointSigning {
  const privateKey = privateKeyFrom(pem, setting);
  const key = thumbprintKey(privateKey);
  if (!key) {
    throw new ConfigurationError(
      ErrorCode.invalidConfiguration,
      `${setting}: must be an Ed25519 or EC P-256 key, not ${describeKey(privateKey)}`,
    );
  }
  return { signer: localSigner(privateKey, key), keyRing: localKeyRing(key) };
}

/** The ring of one local public key: by its thumbprint, and for v1 checkpoints when it is the Ed25519 key they were signed with. */
export function localKeyRing(key: VerificationKey): CheckpointKeyRing {
  return keyRingOfKeys([key]);
}

function localSigner(privateKey: KeyObject, key: VerificationKey): CheckpointSigner {
  return {
    key: () => Promise.resolve({ keyId: key.keyId, algorithm: key.algorithm }),
    sign: (statement) =>
      Promise.resolve(
        key.algorithm === SigningAlgorithm.edDsa
          ? sign(null, statement, privateKey)
          : // JWS's ES256 form (r || s), the form Key Vault signs in, rather than Node's default DER.
            sign('sha256', statement, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      ),
  };
}

function privateKeyFrom(pem: string, setting: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    // The parser's message names the format problem, never the key's content.
    throw new ConfigurationError(
      ErrorCode.invalidConfiguration,
      `${setting}: is not a PKCS#8 PEM private key (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
}

function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve ? `${key.asymmetricKeyType} ${curve}` : String(key.asymmetricKeyType);
}
