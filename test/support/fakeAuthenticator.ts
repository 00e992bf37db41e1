import { ErrorCode, UnauthenticatedError } from '../../shared/domain/errors';
import type { Principal } from '../../shared/domain/principal';
import type { Authenticator } from '../../shared/entrypoints/http/authentication';

/**
 * Test tooling: an authenticator that says every caller is `principal` (or, given none, refuses
 * everyone), for unit tests of entrypoints that run without HTTP. End-to-end tests use real keys.
 */
export function fakeAuthenticator(principal: Principal | null): Authenticator {
  return {
    mode: 'keys',
    challenge: 'Bearer realm="test"',
    authenticate: () => {
      if (!principal) throw new UnauthenticatedError(ErrorCode.unauthenticated, 'no credentials');
      return principal;
    },
  };
}
