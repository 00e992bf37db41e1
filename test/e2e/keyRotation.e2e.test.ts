import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jwkOf } from '../../shared/domain/jwk';
import { jwkThumbprint, thumbprintKey, type VerificationKey } from '../../shared/domain/signingKeys';
import { auditCheckpointTimer } from '../../shared/entrypoints/timers';
import { aTopology } from '../support/apiData';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { apiClient, startE2EEnvironment, type E2EEnvironment } from '../support/localHost';

const pkcs8 = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
const spki = (key: KeyObject) => createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
const verificationKey = (key: KeyObject) => thumbprintKey(key) as VerificationKey;

/** A host on the shared Azurite, signing with `settings`' key; the test stops it. */
function hostWith(azurite: TestAzurite, settings: Record<string, string>): Promise<E2EEnvironment> {
  return startE2EEnvironment({ azurite, loadDemoTopology: false, settings });
}

/** The checkpoint timer's run on the host's own dependencies (its schedule is minutes away). */
async function checkpoint(env: E2EEnvironment) {
  const made = await auditCheckpointTimer(env.dependencies);
  assert.ok(made, 'the log grew, so a checkpoint was signed');
  return made;
}

/** GET /api/audit/signing-keys as the auditor: status, content type and the raw text besides the body. */
async function signingKeys(env: E2EEnvironment) {
  const response = await fetch(`${env.baseUrl}/audit/signing-keys`, { headers: { authorization: `Bearer ${env.keys.auditor}` } });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), text, body: JSON.parse(text) as unknown };
}

describe('rotating the local checkpoint signing key (restarts of the local host on one Azurite)', () => {
  let azurite: TestAzurite;
  before(async () => {
    azurite = await startTestAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  it('old checkpoints verify with the retired key in AUDIT_VERIFY_KEYS, new ones name the new key; without it they are unknown', async () => {
    const keyA = generateKeyPairSync('ed25519').privateKey;
    const keyB = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const [idA, idB] = [jwkThumbprint(keyA), jwkThumbprint(keyB)];

    // Key A signs; before rotating, the operator saves the published key set.
    const hostA = await hostWith(azurite, { AUDIT_SIGNING_KEY: pkcs8(keyA) });
    let byA;
    let publishedBeforeRotation;
    try {
      await aTopology(apiClient(hostA.baseUrl, hostA.keys.operator));
      byA = await checkpoint(hostA);
      assert.deepEqual([byA.keyId, byA.algorithm], [idA, 'EdDSA']);
      publishedBeforeRotation = await signingKeys(hostA);
      assert.deepEqual(publishedBeforeRotation, {
        status: 200,
        contentType: 'application/jwk-set+json',
        text: publishedBeforeRotation.text,
        body: { keys: [jwkOf(verificationKey(keyA))] },
      });
      // The host holds a private key; the route never carries a private member.
      assert.doesNotMatch(publishedBeforeRotation.text, /"d"/);
    } finally {
      await hostA.stop();
    }

    // Restarted with key B, and A's public key (the set saved above) as a verify-only key.
    const hostB = await hostWith(azurite, { AUDIT_SIGNING_KEY: pkcs8(keyB), AUDIT_VERIFY_KEYS: publishedBeforeRotation.text });
    try {
      await aTopology(apiClient(hostB.baseUrl, hostB.keys.operator));
      const byB = await checkpoint(hostB);
      assert.deepEqual([byB.keyId, byB.algorithm], [idB, 'ES256']);
      assert.ok(byB.sequence > byA.sequence);

      const verified = await apiClient(hostB.baseUrl, hostB.keys.auditor)('GET', '/audit/verify');
      assert.equal(verified.status, 200);
      assert.equal(verified.body.intact, true, JSON.stringify(verified.body.breaks));
      assert.deepEqual(verified.body.checkpoints.byKey, [
        { keyId: idB, checkpoints: 1 },
        { keyId: idA, checkpoints: 1 },
      ]);

      const published = await signingKeys(hostB);
      assert.equal(published.status, 200);
      assert.equal(published.contentType, 'application/jwk-set+json');
      assert.deepEqual(published.body, { keys: [jwkOf(verificationKey(keyB)), jwkOf(verificationKey(keyA))] });
      assert.doesNotMatch(published.text, /"d"/);
    } finally {
      await hostB.stop();
    }

    // Restarted with key B alone: A's checkpoint has no key, and the key set says which id is missing.
    const hostBAlone = await hostWith(azurite, { AUDIT_SIGNING_KEY: pkcs8(keyB) });
    try {
      const verified = await apiClient(hostBAlone.baseUrl, hostBAlone.keys.auditor)('GET', '/audit/verify');
      assert.equal(verified.status, 200);
      assert.equal(verified.body.intact, false);
      assert.deepEqual(
        verified.body.breaks.map((b: { sequence: number; kind: string }) => [b.sequence, b.kind]),
        [[byA.sequence, 'checkpoint_key_unknown']],
      );
      assert.deepEqual((await signingKeys(hostBAlone)).body, { keys: [jwkOf(verificationKey(keyB))], missing: [idA] });
    } finally {
      await hostBAlone.stop();
    }

    // The same retired key given as PEM (openssl pkey -pubout's form) verifies just the same.
    const hostPem = await hostWith(azurite, { AUDIT_SIGNING_KEY: pkcs8(keyB), AUDIT_VERIFY_KEYS: spki(keyA) });
    try {
      const verified = await apiClient(hostPem.baseUrl, hostPem.keys.auditor)('GET', '/audit/verify');
      assert.equal(verified.body.intact, true, JSON.stringify(verified.body.breaks));
    } finally {
      await hostPem.stop();
    }
  });

  it('answers only the auditor, and refuses a query parameter by name', async () => {
    const host = await hostWith(azurite, {});
    try {
      for (const role of ['submitter', 'operator', 'reader'] as const) {
        const refused = await apiClient(host.baseUrl, host.keys[role])('GET', '/audit/signing-keys');
        assert.deepEqual([refused.status, refused.body.code], [403, 'forbidden'], role);
      }
      assert.equal((await apiClient(host.baseUrl)('GET', '/audit/signing-keys')).status, 401);
      const bad = await apiClient(host.baseUrl, host.keys.auditor)('GET', '/audit/signing-keys?kid=x');
      assert.deepEqual([bad.status, bad.body.code], [400, 'validation_failed']);
      assert.match(JSON.stringify(bad.body.errors), /kid/);
    } finally {
      await host.stop();
    }
  });
});
