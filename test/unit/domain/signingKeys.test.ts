import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointStatement } from '../../../shared/domain/auditVerification';
import { algorithmOfKey, jwkThumbprint, parseKeyVaultKeyUri, signatureVerifies, thumbprintKey } from '../../../shared/domain/signingKeys';

describe('signing keys', () => {
  it('names a key by its RFC 7638 JWK thumbprint (RFC 8037 appendix A.3 vector)', () => {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }, format: 'jwk' });
    assert.equal(jwkThumbprint(key), 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it('takes an EC key thumbprint over crv, kty, x, y in that order, the same from its private or public half', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const expected = createHash('sha256').update(`{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`).digest('base64url');
    assert.equal(jwkThumbprint(publicKey), expected);
    assert.equal(jwkThumbprint(privateKey), expected);
  });

  it('lets the key decide the algorithm: Ed25519 is EdDSA, EC P-256 is ES256, anything else none', () => {
    assert.equal(algorithmOfKey(generateKeyPairSync('ed25519').publicKey), 'EdDSA');
    assert.equal(algorithmOfKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), 'ES256');
    assert.equal(algorithmOfKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), undefined);
    assert.equal(algorithmOfKey(generateKeyPairSync('ed448').publicKey), undefined);
  });

  it('verifies ES256 as IEEE P1363 r || s only, and never under another algorithm than the key’s', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = thumbprintKey(privateKey);
    assert.ok(key);
    const statement = checkpointStatement({ sequence: 1, hash: 'h', time: 't', keyId: key.keyId, algorithm: 'ES256' });
    const p1363 = sign('sha256', statement, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const der = sign('sha256', statement, privateKey);
    assert.equal(signatureVerifies(key, 'ES256', statement, p1363), true);
    assert.equal(signatureVerifies(key, 'ES256', statement, der), false);
    assert.equal(signatureVerifies(key, 'EdDSA', statement, p1363), false);
    assert.equal(signatureVerifies(key, 'ES256', Buffer.from('another statement'), p1363), false);
  });

  it('signs v2 statements over the key id and algorithm, and keeps the v1 statement of checkpoints made before key ids', () => {
    const base = { sequence: 7, hash: 'abc', time: '2024-05-01T10:00:00.000Z' };
    assert.equal(checkpointStatement(base).toString(), 'pchat-audit-checkpoint/v1\n7\nabc\n2024-05-01T10:00:00.000Z');
    assert.equal(
      checkpointStatement({ ...base, keyId: 'kid', algorithm: 'ES256' }).toString(),
      'pchat-audit-checkpoint/v2\n["kid","ES256",7,"abc","2024-05-01T10:00:00.000Z"]',
    );
    // A key id cannot run into the next field.
    assert.notEqual(
      checkpointStatement({ ...base, keyId: 'a","ES256', algorithm: 'ES256' }).toString(),
      checkpointStatement({ ...base, keyId: 'a', algorithm: 'ES256' }).toString(),
    );
  });

  it('takes a Key Vault key URI apart; https, or http on loopback only', () => {
    const version = 'ABCDEF0123456789abcdef0123456789';
    assert.deepEqual(parseKeyVaultKeyUri(`https://v.vault.azure.net/keys/audit-signing/${version}`), {
      vaultUrl: 'https://v.vault.azure.net',
      name: 'audit-signing',
      version,
    });
    assert.deepEqual(parseKeyVaultKeyUri('http://localhost:8443/keys/k'), {
      vaultUrl: 'http://localhost:8443',
      name: 'k',
      version: undefined,
    });
    assert.equal(parseKeyVaultKeyUri('http://v.vault.azure.net/keys/k'), undefined);
    assert.equal(parseKeyVaultKeyUri('https://v.vault.azure.net/keys/k#x'), undefined);
    assert.equal(parseKeyVaultKeyUri(`https://v.vault.azure.net/keys/${'k'.repeat(128)}`), undefined);
  });
});
