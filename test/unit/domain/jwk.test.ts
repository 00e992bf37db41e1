import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointStatement } from '../../../shared/domain/auditVerification';
import { jwkOf, parseJwkSet, verificationKeyFromJwk } from '../../../shared/domain/jwk';
import { jwkThumbprint, signatureVerifies, thumbprintKey, type VerificationKey } from '../../../shared/domain/signingKeys';

const KEY_VAULT_KID = 'https://contoso-audit.vault.azure.net/keys/audit-signing/0123456789abcdef0123456789abcdef';

/** A key pair's private key and its verification key (named by thumbprint). */
function keyPair(type: 'ed25519' | 'p256') {
  const { privateKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = thumbprintKey(privateKey) as VerificationKey;
  return { privateKey, key };
}

/** The TypeError message a call throws. */
function messageOf(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof TypeError, `a TypeError, not ${String(error)}`);
    return error.message;
  }
  assert.fail('it did not throw');
}

describe('JWKs of checkpoint keys', () => {
  it('writes an Ed25519 key as OKP/EdDSA and a P-256 key as EC/ES256, with kid and use, from public members only', () => {
    const ed = keyPair('ed25519');
    const ec = keyPair('p256');
    // Even handed a verification key built on the private KeyObject, no private member comes out.
    const edJwk = jwkOf({ ...ed.key, publicKey: ed.privateKey });
    const ecJwk = jwkOf({ ...ec.key, keyId: KEY_VAULT_KID, publicKey: ec.privateKey });

    const edPublic = ed.privateKey.export({ format: 'jwk' });
    const ecPublic = ec.privateKey.export({ format: 'jwk' });
    assert.deepEqual(edJwk, { kty: 'OKP', crv: 'Ed25519', x: edPublic.x, kid: ed.key.keyId, alg: 'EdDSA', use: 'sig' });
    assert.deepEqual(ecJwk, { kty: 'EC', crv: 'P-256', x: ecPublic.x, y: ecPublic.y, kid: KEY_VAULT_KID, alg: 'ES256', use: 'sig' });
    assert.ok(edPublic.d && ecPublic.d, 'the private keys do have a d');
    assert.doesNotMatch(JSON.stringify([edJwk, ecJwk]), /"d"/);
  });

  it('reads back the key it wrote: same id, algorithm and public key, and a checkpoint signature still verifies', () => {
    for (const type of ['ed25519', 'p256'] as const) {
      const { privateKey, key } = keyPair(type);
      const read = verificationKeyFromJwk(JSON.parse(JSON.stringify(jwkOf(key))));
      assert.equal(read.keyId, key.keyId);
      assert.equal(read.algorithm, key.algorithm);
      assert.ok(read.publicKey.equals(key.publicKey));
      const statement = checkpointStatement({ sequence: 3, hash: 'ab', time: '2026-11-26T10:00:00.000Z', ...key });
      const signature =
        type === 'ed25519' ? sign(null, statement, privateKey) : sign('sha256', statement, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      assert.equal(signatureVerifies(read, key.algorithm, statement, signature), true);
    }
  });

  it('trusts a kid as given (a Key Vault key id is a URI), and names a JWK without one by its RFC 7638 thumbprint', () => {
    const { key } = keyPair('p256');
    const jwk = jwkOf(key);
    assert.equal(verificationKeyFromJwk({ ...jwk, kid: KEY_VAULT_KID }).keyId, KEY_VAULT_KID);
    const { kid: _kid, alg: _alg, use: _use, ...bare } = jwk;
    const read = verificationKeyFromJwk(bare);
    assert.equal(read.keyId, jwkThumbprint(key.publicKey));
    assert.equal(read.algorithm, 'ES256');
    // RFC 8037 appendix A.2/A.3: the Ed25519 example key and its thumbprint.
    const example = verificationKeyFromJwk({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' });
    assert.equal(example.keyId, 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it('refuses a private JWK, naming the private member, however it arrives', () => {
    const { privateKey } = keyPair('ed25519');
    const privateJwk = privateKey.export({ format: 'jwk' });
    assert.equal(
      messageOf(() => verificationKeyFromJwk(privateJwk)),
      'd: is a private key member; give the public key only',
    );
    assert.equal(
      messageOf(() => parseJwkSet(JSON.stringify({ keys: [{ ...privateJwk, kid: 'k' }] }))),
      'keys[0].d: is a private key member; give the public key only',
    );
    assert.equal(
      messageOf(() => verificationKeyFromJwk({ kty: 'oct', k: 'c2VjcmV0' })),
      'k: is a private key member; give the public key only',
    );
  });

  it('refuses each wrong member by name and rule, never quoting an odd value', () => {
    const ec = jwkOf(keyPair('p256').key);
    const ed = jwkOf(keyPair('ed25519').key);
    const cases: Array<[unknown, string]> = [
      ['text', 'must be a JWK object'],
      [[ec], 'must be a JWK object'],
      [{ ...ec, kty: 'RSA' }, 'kty: must be OKP (Ed25519) or EC (P-256), not RSA'],
      [{ ...ec, kty: undefined }, 'kty: must be OKP (Ed25519) or EC (P-256), not missing'],
      [{ ...ec, crv: 'P-384' }, 'crv: must be P-256 for kty EC, not P-384'],
      [{ ...ed, crv: 'X25519' }, 'crv: must be Ed25519 for kty OKP, not X25519'],
      [{ ...ed, crv: 'Ed448' }, 'crv: must be Ed25519 for kty OKP, not Ed448'],
      [{ ...ec, alg: 'EdDSA' }, 'alg: must be ES256 for a P-256 key, not EdDSA'],
      [{ ...ed, alg: 'ES256' }, 'alg: must be EdDSA for a Ed25519 key, not ES256'],
      [{ ...ec, alg: 'none\u0000\ud800' }, 'alg: must be ES256 for a P-256 key, not that value'],
      [{ ...ec, use: 'enc' }, 'use: must be sig, not enc'],
      [{ ...ec, key_ops: ['sign'] }, 'key_ops: must include verify when present'],
      [{ ...ed, y: ec.y }, 'y: an OKP key has no y'],
      [{ ...ec, x: `${ec.x}=` }, 'x: must be the unpadded base64url of 32 bytes'],
      [{ ...ec, x: ec.x.slice(2) }, 'x: must be the unpadded base64url of 32 bytes'],
      [{ ...ec, y: 42 }, 'y: must be the unpadded base64url of 32 bytes'],
      [{ ...ec, y: undefined }, 'y: must be the unpadded base64url of 32 bytes'],
      [{ ...ec, y: ec.x }, 'x: is not a point of P-256'],
      [{ ...ec, kid: '' }, 'kid: must be 1-1024 visible ASCII characters (a key thumbprint or a Key Vault key URI)'],
      [{ ...ec, kid: 'a b' }, 'kid: must be 1-1024 visible ASCII characters (a key thumbprint or a Key Vault key URI)'],
      [{ ...ec, kid: 'k\ud800' }, 'kid: must be 1-1024 visible ASCII characters (a key thumbprint or a Key Vault key URI)'],
      [{ ...ec, kid: 'k'.repeat(1025) }, 'kid: must be 1-1024 visible ASCII characters (a key thumbprint or a Key Vault key URI)'],
      [{ ...ec, kid: 7 }, 'kid: must be 1-1024 visible ASCII characters (a key thumbprint or a Key Vault key URI)'],
    ];
    for (const [jwk, expected] of cases)
      assert.equal(
        messageOf(() => verificationKeyFromJwk(jwk)),
        expected,
        JSON.stringify(jwk),
      );
  });

  it('reads a JWK set, naming the key by index; refuses two keys under one kid, keeps the same key given twice once', () => {
    const a = jwkOf(keyPair('ed25519').key);
    const b = jwkOf({ ...keyPair('p256').key, keyId: KEY_VAULT_KID });
    const keys = parseJwkSet(JSON.stringify({ keys: [a, b, a], extra: 'ignored' }));
    assert.deepEqual(
      keys.map((key) => [key.keyId, key.algorithm]),
      [
        [a.kid, 'EdDSA'],
        [KEY_VAULT_KID, 'ES256'],
      ],
    );
    assert.deepEqual(parseJwkSet('{"keys":[]}'), []);

    const other = jwkOf(keyPair('p256').key);
    assert.equal(
      messageOf(() => parseJwkSet(JSON.stringify({ keys: [b, { ...other, kid: KEY_VAULT_KID }] }))),
      "keys[1].kid: names keys[0]'s key id with a different key",
    );
    assert.equal(
      messageOf(() => parseJwkSet(JSON.stringify({ keys: [a, { ...b, crv: 'P-521' }] }))),
      'keys[1].crv: must be P-256 for kty EC, not P-521',
    );
    assert.equal(
      messageOf(() => parseJwkSet('{"keys": [')),
      'is not JSON: must be a JWK set, {"keys":[...]}',
    );
    assert.equal(
      messageOf(() => parseJwkSet(JSON.stringify(a))),
      'keys: must be an array (a JWK set is {"keys":[...]})',
    );
    assert.equal(
      messageOf(() => parseJwkSet('null')),
      'keys: must be an array (a JWK set is {"keys":[...]})',
    );
    assert.equal(
      messageOf(() => parseJwkSet('{"keys":[null]}')),
      'keys[0]: must be a JWK object',
    );
  });
});
