import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { p256 } from '@noble/curves/nist';

/**
 * TEST TOOLING: a stand-in for Azure Key Vault, because nothing here can reach Azure. It listens on
 * loopback over plain HTTP and answers the two REST calls checkpoint signing makes, in Key Vault's
 * JSON shapes (REST API 2025-07-01, as @azure/keyvault-keys 4.10 sends them):
 *
 * - `GET /keys/{name}[/{version}]` -> a KeyBundle: `{ key: { kid, kty: "EC", crv: "P-256", x, y, key_ops }, attributes }`
 *   (x, y base64url), the newest version when none is named; an unknown key or version is 404 KeyNotFound.
 * - `POST /keys/{name}/{version}/sign` with `{ alg: "ES256", value: <base64url SHA-256 digest> }` ->
 *   `{ kid, value: <base64url r || s> }`: ECDSA over the digest as given, as Key Vault signs (Node's
 *   crypto only signs messages it hashes itself, so @noble/curves signs the digest).
 *
 * Like Key Vault, it answers a request without the expected bearer token 401 with a
 * `WWW-Authenticate: Bearer authorization=..., resource=...` challenge, which the SDK's challenge
 * policy answers by asking its credential for a token and sending the request again. Each version's
 * EC P-256 key pair is generated here, in the test's process; the private key never leaves it.
 */
export interface FakeKeyVault {
  /** The vault's URL, http://127.0.0.1:<port>. */
  vaultUrl: string;
  /** The key's unversioned URI (what AUDIT_SIGNING_KEY_VAULT_KEY_ID may hold). */
  keyUri: string;
  /** The newest version's id: its versioned URI, the `kid` checkpoints name. */
  kid(): string;
  /** A new version of the key, which becomes the newest (a rotation); answers its kid. */
  rotate(): string;
  /** The public key of a version, by kid. */
  publicKey(kid: string): KeyObject;
  /** Every request, in order: method, path (no query), its Authorization header and its JSON body. */
  requests: Array<{ method: string; path: string; authorization: string | undefined; body: unknown }>;
  stop(): Promise<void>;
}

export interface FakeKeyVaultOptions {
  /** The key's name in the vault. */
  keyName?: string;
  /** The only bearer token it accepts. */
  token: string;
}

interface Version {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const CHALLENGE =
  'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"';

export async function startFakeKeyVault(options: FakeKeyVaultOptions): Promise<FakeKeyVault> {
  const keyName = options.keyName ?? 'audit-signing';
  const versions: Version[] = [];
  const requests: FakeKeyVault['requests'] = [];
  let vaultUrl = '';

  const rotate = (): string => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = `${vaultUrl}/keys/${keyName}/${randomBytes(16).toString('hex')}`;
    versions.push({ kid, privateKey, publicKey });
    return kid;
  };

  const server = createServer((request, response) => {
    void readJson(request).then((body) => {
      const url = new URL(request.url ?? '/', vaultUrl);
      const authorization = request.headers.authorization;
      requests.push({ method: request.method ?? '', path: url.pathname, authorization, body });
      if (authorization !== `Bearer ${options.token}`) {
        return send(
          response,
          401,
          { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } },
          {
            'www-authenticate': CHALLENGE,
          },
        );
      }
      const match = /^\/keys\/([^/]+)(?:\/([^/]*))?(\/sign)?$/.exec(url.pathname);
      const version = match && match[1] === keyName ? findVersion(versions, match[2]) : undefined;
      if (!match || !version)
        return send(response, 404, {
          error: { code: 'KeyNotFound', message: `A key with (name/id) ${url.pathname} was not found in this key vault.` },
        });
      if (request.method === 'GET' && !match[3]) return send(response, 200, keyBundle(version));
      if (request.method === 'POST' && match[3]) return sign(response, version, body);
      return send(response, 405, { error: { code: 'BadParameter', message: 'method not allowed' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  vaultUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rotate();

  return {
    vaultUrl,
    keyUri: `${vaultUrl}/keys/${keyName}`,
    kid: () => (versions.at(-1) as Version).kid,
    rotate,
    publicKey: (kid) => {
      const version = versions.find((v) => v.kid === kid);
      if (!version) throw new Error(`no version ${kid}`);
      return version.publicKey;
    },
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A named version, or the newest when the path names none (GET /keys/{name} and /keys/{name}/). */
function findVersion(versions: Version[], version: string | undefined): Version | undefined {
  if (!version) return versions.at(-1);
  return versions.find((v) => v.kid.endsWith(`/${version}`));
}

function keyBundle(version: Version): unknown {
  const jwk = version.publicKey.export({ format: 'jwk' });
  const now = Math.floor(Date.now() / 1000);
  return {
    key: { kid: version.kid, kty: 'EC', key_ops: ['sign', 'verify'], crv: 'P-256', x: jwk.x, y: jwk.y },
    attributes: {
      enabled: true,
      created: now,
      updated: now,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
      exportable: false,
    },
  };
}

/** Key Vault's sign: ECDSA P-256 over the digest it is given (it never sees the message), answered as r || s. */
function sign(response: ServerResponse, version: Version, body: unknown): void {
  const { alg, value } = (body ?? {}) as { alg?: string; value?: string };
  const digest = Buffer.from(value ?? '', 'base64url');
  if (alg !== 'ES256' || digest.length !== 32) {
    return send(response, 400, { error: { code: 'BadParameter', message: 'ES256 signs a 32-byte SHA-256 digest' } });
  }
  const d = Buffer.from(version.privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  const signature = p256.sign(digest, d, { prehash: false }).toBytes('compact');
  send(response, 200, { kid: version.kid, value: Buffer.from(signature).toString('base64url') });
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** The SHA-256 digest Key Vault is asked to sign for a statement (for tests that check the request). */
export function digestOf(statement: Uint8Array): string {
  return createHash('sha256').update(statement).digest('base64url');
}
