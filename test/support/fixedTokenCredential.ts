import type { TokenCredential } from '@azure/identity';

/**
 * Test tooling: stand-ins for Microsoft Entra ID, which cannot be reached here. A credential that
 * issues one fixed token for any scope, and records the scopes the SDKs asked it for.
 */
export interface FixedTokenCredential extends TokenCredential {
  readonly token: string;
  readonly scopes: string[];
}

export function fixedTokenCredential(token: string): FixedTokenCredential {
  const scopes: string[] = [];
  return {
    token,
    scopes,
    getToken: async (requested) => {
      scopes.push(...(Array.isArray(requested) ? requested : [requested]));
      return { token, expiresOnTimestamp: Date.now() + 3_600_000, tokenType: 'Bearer' };
    },
  };
}

/**
 * An unsigned token shaped as an Entra ID access token for Azure Storage: Azurite in `--oauth basic`
 * mode checks its audience, issuer and lifetime, never a signature. Fixed for one test run.
 */
export function unsignedStorageToken(now = Date.now()): string {
  const seconds = Math.floor(now / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = {
    aud: 'https://storage.azure.com',
    iss: 'https://sts.windows.net/00000000-0000-4000-8000-000000000001/',
    iat: seconds - 60,
    nbf: seconds - 60,
    exp: seconds + 3600,
    oid: '00000000-0000-4000-8000-000000000002',
    tid: '00000000-0000-4000-8000-000000000001',
  };
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
