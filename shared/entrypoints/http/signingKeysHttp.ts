import { z } from 'zod';
import { signingKeySet, type SigningKeySetDependencies } from '../../application/audit/signingKeySet';
import { jwkOf } from '../../domain/jwk';
import { Role } from '../../domain/principal';
import { httpEntrypoint, type HttpDependencies } from './httpEntrypoint';
import { json, parseInput, queryObject } from './httpInput';

/** The JWK set media type (RFC 7517 section 8.5). */
export const JWK_SET_MEDIA_TYPE = 'application/jwk-set+json';

/**
 * GET /api/audit/signing-keys: the JWK set of every public key that verifies this deployment's
 * checkpoints, each with the key id checkpoints name (`kid`), so an auditor can check them offline.
 * Key ids that stored checkpoints name but no configured key resolves are listed in `missing` (a
 * member RFC 7517 lets JWK set readers ignore), only when there are any.
 */
export const signingKeysHttp = httpEntrypoint(
  { roles: [Role.auditor] },
  async (deps: SigningKeySetDependencies & HttpDependencies, request) => {
    parseInput(z.strictObject({}), queryObject(request), 'query');
    const { keys, missing } = await signingKeySet(deps);
    const body = { keys: keys.map(jwkOf), ...(missing.length > 0 ? { missing } : {}) };
    return json(200, body, { 'content-type': JWK_SET_MEDIA_TYPE });
  },
);
