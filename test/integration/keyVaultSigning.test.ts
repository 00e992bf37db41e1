import { generateKeyPairSync, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { keyRingOf } from '../../shared/application/audit/keyRing';
import { verifyAuditLog } from '../../shared/application/audit/verifyAuditLog';
import { addSipDomain, registerPool } from '../../shared/application/topology';
import { checkpointSigningFor, type CheckpointSigning } from '../../shared/composition/compose';
import { checkpointStatement, type AuditCheckpoint } from '../../shared/domain/auditVerification';
import type { Fqdn, SipAddress } from '../../shared/domain/names';
import { Role } from '../../shared/domain/principal';
import { jwkOf } from '../../shared/domain/jwk';
import { jwkThumbprint, thumbprintKey, type VerificationKey } from '../../shared/domain/signingKeys';
import { verifyAuditHttp } from '../../shared/entrypoints/http/auditHttp';
import { signingKeysHttp } from '../../shared/entrypoints/http/signingKeysHttp';
import type { HttpInput } from '../../shared/entrypoints/http/httpInput';
import { auditCheckpointTimer } from '../../shared/entrypoints/timers';
import { parseSettings } from '../../shared/settings';
import { startTestAzurite, type TestAzurite } from '../support/azurite';
import { fakeAuthenticator } from '../support/fakeAuthenticator';
import { digestOf, startFakeKeyVault, type FakeKeyVault } from '../support/fakeKeyVault';
import { localSigning, newStoreHarness, type StoreHarness } from '../support/storeHarness';

const TOKEN = 'managed-identity-token-for-key-vault';
const admin = { actor: 'admin@contoso.com', correlationId: 'corr-keyvault' };

let azurite: TestAzurite;
let vault: FakeKeyVault;

/** Test tooling: a credential that issues one fixed token (the managed identity cannot run here), recording the scopes asked for. */
function fixedTokenCredential(): TokenCredential & { scopes: string[][] } {
  const scopes: string[][] = [];
  return {
    scopes,
    getToken: (asked: string | string[], _options?: GetTokenOptions): Promise<AccessToken> => {
      scopes.push(Array.isArray(asked) ? asked : [asked]);
      return Promise.resolve({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

/**
 * Key Vault signing as the composition root builds it from AUDIT_SIGNING_KEY_VAULT_KEY_ID (and any
 * other settings given, AUDIT_VERIFY_KEYS say), with the stand-in credential.
 */
function keyVaultSigning(
  keyUri: string,
  credential = fixedTokenCredential(),
  env: Record<string, string> = {},
): Required<CheckpointSigning> {
  const settings = parseSettings({ AzureWebJobsStorage: azurite.connectionString, AUDIT_SIGNING_KEY_VAULT_KEY_ID: keyUri, ...env });
  const signing = checkpointSigningFor(settings, () => credential);
  assert.ok(signing.checkpointSigner && signing.checkpointKeys);
  return { checkpointSigner: signing.checkpointSigner, checkpointKeys: signing.checkpointKeys };
}

/** Appends `count` audit records (pool registrations; the first call adds the SIP domain too). */
async function grow(deps: StoreHarness, count: number): Promise<void> {
  if ((await deps.auditLog.head()).sequence === 0) await addSipDomain(deps, admin, 'contoso.com' as Fqdn);
  const start = (await deps.auditLog.head()).sequence;
  for (let n = start; n < start + count; n++) {
    await registerPool(deps, admin, `pool${n}.contoso.com` as Fqdn, `sip:default${n}@contoso.com` as SipAddress);
  }
}

/** The checkpoint timer's run, as the Functions host triggers it. */
async function checkpointTimer(deps: StoreHarness): Promise<AuditCheckpoint> {
  const checkpoint = await auditCheckpointTimer(deps);
  assert.ok(checkpoint, 'the timer signed a checkpoint');
  return checkpoint;
}

const verifyRequest: HttpInput = {
  method: 'GET',
  url: 'http://localhost:7071/api/audit/verify',
  headers: { get: () => null },
  params: {},
  query: new URLSearchParams(),
  text: async () => '',
};
const signingKeysRequest: HttpInput = { ...verifyRequest, url: 'http://localhost:7071/api/audit/signing-keys' };
const auditor = fakeAuthenticator({ name: 'auditor@contoso.com', roles: new Set([Role.auditor]) });

/** The JWK of a Key Vault version, as the key set should carry it. */
const vaultJwk = (kid: string) => jwkOf({ keyId: kid, algorithm: 'ES256', publicKey: vault.publicKey(kid) });

describe('audit checkpoints signed through Key Vault (a stand-in Key Vault on loopback)', () => {
  before(async () => {
    azurite = await startTestAzurite();
    vault = await startFakeKeyVault({ token: TOKEN });
  });
  after(async () => {
    await vault?.stop();
    await azurite?.stop();
  });

  it('the checkpoint timer signs ES256 through Key Vault with the credential token, and GET /api/audit/verify names the Key Vault key', async () => {
    const credential = fixedTokenCredential();
    const signing = keyVaultSigning(vault.keyUri, credential);
    const deps = await newStoreHarness(azurite.connectionString, { signing });
    await grow(deps, 3);
    const before = vault.requests.length;

    const checkpoint = await checkpointTimer(deps);

    const kid = vault.kid();
    assert.equal(checkpoint.keyId, kid, 'the versioned key URI, though the setting named no version');
    assert.equal(checkpoint.algorithm, 'ES256');
    assert.equal(checkpoint.sequence, 4);
    // Key Vault signed the SHA-256 digest of exactly the statement stored, and it verifies with the vault key's public key.
    const statement = checkpointStatement(checkpoint);
    const signature = Buffer.from(checkpoint.signature, 'base64');
    assert.equal(verify('sha256', statement, { key: vault.publicKey(kid), dsaEncoding: 'ieee-p1363' }, signature), true);
    // The SDK's challenge, once per client (the key reader and the signer): a first request without
    // a token (and without its body) is answered 401, then it is sent again with the credential's token.
    const version = kid.split('/').at(-1) as string;
    assert.deepEqual(
      vault.requests.slice(before).map((r) => [r.method, r.path, r.authorization]),
      [
        ['GET', '/keys/audit-signing/', undefined],
        ['GET', '/keys/audit-signing/', `Bearer ${TOKEN}`],
        ['POST', `/keys/audit-signing/${version}/sign`, undefined],
        ['POST', `/keys/audit-signing/${version}/sign`, `Bearer ${TOKEN}`],
      ],
    );
    assert.deepEqual(vault.requests.at(-1)?.body, { alg: 'ES256', value: digestOf(statement) });
    assert.deepEqual(credential.scopes, [['https://vault.azure.net/.default'], ['https://vault.azure.net/.default']]);
    assert.deepEqual(await deps.auditLog.checkpoints(), [checkpoint], 'stored with its key id and algorithm');

    const response = await verifyAuditHttp(
      { ...deps, authenticator: fakeAuthenticator({ name: 'auditor@contoso.com', roles: new Set([Role.auditor]) }) },
      verifyRequest,
    );
    assert.equal(response.status, 200);
    const report = JSON.parse(response.body as string) as Awaited<ReturnType<typeof verifyAuditLog>>;
    assert.equal(report.intact, true, JSON.stringify(report.breaks));
    assert.deepEqual(report.checkpoints, {
      checked: 1,
      newest: { sequence: 4, time: checkpoint.time, keyId: kid },
      signingKey: 'configured',
      byKey: [{ keyId: kid, checkpoints: 1 }],
    });
  });

  it('after a key rotation the next start signs with the new version, and a fresh verifier fetches both versions by key id', async () => {
    const firstSigning = keyVaultSigning(vault.keyUri);
    const deps = await newStoreHarness(azurite.connectionString, { signing: firstSigning });
    await grow(deps, 2);
    const first = await checkpointTimer(deps);
    const rotated = vault.rotate();
    // The running process keeps its pinned version...
    await grow(deps, 1);
    assert.equal((await checkpointTimer(deps)).keyId, first.keyId);
    // ...and a process started after the rotation signs with the new one.
    await grow(deps, 1);
    const afterRotation = await checkpointTimer({ ...deps, ...keyVaultSigning(vault.keyUri) });
    assert.equal(afterRotation.keyId, rotated);
    assert.notEqual(rotated, first.keyId);

    const report = await verifyAuditLog({ ...deps, ...keyVaultSigning(vault.keyUri) });
    assert.equal(report.intact, true, JSON.stringify(report.breaks));
    assert.deepEqual(report.checkpoints.byKey, [
      { keyId: rotated, checkpoints: 1 },
      { keyId: first.keyId, checkpoints: 2 },
    ]);
  });

  it('a checkpoint naming a key of another vault is reported unknown, and that vault is never asked', async () => {
    const signing = keyVaultSigning(vault.keyUri);
    const deps = await newStoreHarness(azurite.connectionString, { signing });
    await grow(deps, 2);
    await checkpointTimer(deps);
    await grow(deps, 1);
    // Someone with write access to the table adds a checkpoint signed by a key of their own vault.
    const head = await deps.auditLog.head();
    const elsewhere = `https://attacker.vault.azure.net/keys/audit-signing/${'0'.repeat(32)}`;
    const forged = {
      sequence: head.sequence,
      hash: head.hash,
      time: new Date().toISOString(),
      keyId: elsewhere,
      algorithm: 'ES256' as const,
    };
    await deps.auditLog.addCheckpoint({ ...forged, signature: Buffer.alloc(64).toString('base64') });

    const report = await verifyAuditLog(deps);
    assert.deepEqual(report.breaks, [
      {
        sequence: head.sequence,
        kind: 'checkpoint_key_unknown',
        detail: `the checkpoint at record ${head.sequence} names key ${elsewhere}, which the verifier does not know`,
      },
    ]);
    assert.equal(
      vault.requests.some((r) => r.path.includes('attacker')),
      false,
    );
  });

  it('a verifier whose ring holds the local key and the Key Vault key accepts a log holding checkpoints of both', async () => {
    const localKey = generateKeyPairSync('ed25519').privateKey;
    const local = localSigning(localKey);
    const keyVault = keyVaultSigning(vault.keyUri);
    const deps = await newStoreHarness(azurite.connectionString, { signing: local });
    await grow(deps, 2);
    const byLocal = await checkpointTimer(deps);
    await grow(deps, 2);
    const byKeyVault = await checkpointTimer({ ...deps, ...keyVault });
    assert.equal(byLocal.keyId, jwkThumbprint(localKey));
    assert.equal(byKeyVault.keyId, vault.kid());

    const both = keyRingOf([local.checkpointKeys, keyVault.checkpointKeys]);
    const report = await verifyAuditLog({ ...deps, checkpointKeys: both });
    assert.equal(report.intact, true, JSON.stringify(report.breaks));
    assert.deepEqual(report.checkpoints.byKey, [
      { keyId: byKeyVault.keyId, checkpoints: 1 },
      { keyId: byLocal.keyId, checkpoints: 1 },
    ]);

    // Either key alone does not know the other's checkpoint.
    const kinds = async (checkpointKeys: typeof both) =>
      (await verifyAuditLog({ ...deps, checkpointKeys })).breaks.map((b) => [b.sequence, b.kind]);
    assert.deepEqual(await kinds(keyVault.checkpointKeys), [[byLocal.sequence, 'checkpoint_key_unknown']]);
    assert.deepEqual(await kinds(local.checkpointKeys), [[byKeyVault.sequence, 'checkpoint_key_unknown']]);
  });

  it('moving from a local key to Key Vault: the local key in AUDIT_VERIFY_KEYS keeps its checkpoints verifying; the key set holds every key', async () => {
    const localKey = generateKeyPairSync('ed25519').privateKey;
    const deps = await newStoreHarness(azurite.connectionString, { signing: localSigning(localKey) });
    await grow(deps, 2);
    const byLocal = await checkpointTimer(deps);
    // Before the move, the operator saves the key set (GET /api/audit/signing-keys) for AUDIT_VERIFY_KEYS.
    const saved = await signingKeysOf(deps);
    assert.deepEqual(saved.body, { keys: [jwkOf(thumbprintKey(localKey) as VerificationKey)] });
    const retired = { AUDIT_VERIFY_KEYS: saved.text };

    // Key Vault signs from the next start; later the vault key is rotated and the app restarted again.
    await grow(deps, 2);
    const byKeyVault = await checkpointTimer({ ...deps, ...keyVaultSigning(vault.keyUri, undefined, retired) });
    const rotated = vault.rotate();
    await grow(deps, 1);
    const afterRotation = await checkpointTimer({ ...deps, ...keyVaultSigning(vault.keyUri, undefined, retired) });
    assert.notEqual(byKeyVault.keyId, rotated);
    assert.equal(afterRotation.keyId, rotated);

    const moved = { ...deps, ...keyVaultSigning(vault.keyUri, undefined, retired) };
    const report = await verifyAuditLog(moved);
    assert.equal(report.intact, true, JSON.stringify(report.breaks));
    assert.deepEqual(report.checkpoints.byKey, [
      { keyId: rotated, checkpoints: 1 },
      { keyId: byKeyVault.keyId, checkpoints: 1 },
      { keyId: byLocal.keyId, checkpoints: 1 },
    ]);
    // The current version first, then the older version fetched by the id its checkpoint names, then the local key.
    const published = await signingKeysOf(moved);
    assert.deepEqual(published.body, {
      keys: [vaultJwk(rotated), vaultJwk(byKeyVault.keyId as string), jwkOf(thumbprintKey(localKey) as VerificationKey)],
    });

    // Without AUDIT_VERIFY_KEYS (today's failure after the move) the local key's checkpoint is unknown, and listed missing.
    const forgetful = { ...deps, ...keyVaultSigning(vault.keyUri) };
    assert.deepEqual(
      (await verifyAuditLog(forgetful)).breaks.map((b) => [b.sequence, b.kind]),
      [[byLocal.sequence, 'checkpoint_key_unknown']],
    );
    assert.deepEqual((await signingKeysOf(forgetful)).body, {
      keys: [vaultJwk(rotated), vaultJwk(byKeyVault.keyId as string)],
      missing: [byLocal.keyId],
    });
  });
});

/** GET /api/audit/signing-keys through its entrypoint, as the auditor: the 200's JSON body and its text. */
async function signingKeysOf(deps: StoreHarness): Promise<{ body: unknown; text: string }> {
  const response = await signingKeysHttp({ ...deps, authenticator: auditor }, signingKeysRequest);
  assert.equal(response.status, 200);
  assert.equal(response.headers?.['content-type'], 'application/jwk-set+json');
  const text = response.body as string;
  assert.doesNotMatch(text, /"d"/);
  return { body: JSON.parse(text) as unknown, text };
}
