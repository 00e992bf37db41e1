import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnauthenticatedError } from '../../../../shared/domain/errors';
import { Role, type Principal } from '../../../../shared/domain/principal';
import {
  ANONYMOUS,
  easyAuthAuthenticator,
  findKeyHolder,
  keysAuthenticator,
  openAuthenticator,
  principalFromClientPrincipal,
} from '../../../../shared/entrypoints/http/authentication';

/** Request headers as the entrypoints read them (names case-insensitive). */
function headers(values: Record<string, string>) {
  const map = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name: string) => map.get(name.toLowerCase()) ?? null };
}

const ALICE_KEY = 'a'.repeat(20) + 'lice-key-0123456789abcdef';
const BOB_KEY = 'b'.repeat(20) + 'ob-key-0123456789abcdef-xyz';
const keys = keysAuthenticator([
  { principal: 'alice@contoso.com', roles: [Role.submitter], key: ALICE_KEY },
  { principal: 'bob@contoso.com', roles: [Role.operator, Role.auditor], key: BOB_KEY },
]);

const plain = (principal: Principal) => ({ name: principal.name, roles: [...principal.roles].sort() });

/** The UnauthenticatedError `run` throws: its message and the header its error points at. */
function refusal(run: () => unknown): { message: string; pointer: string | undefined } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof UnauthenticatedError, `expected UnauthenticatedError, got ${String(error)}`);
    return { message: error.message, pointer: error.errors[0]?.pointer };
  }
  assert.fail('expected the caller to be refused');
}

const clientPrincipal = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
const OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const ENTRA_ROLE_TYP = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';

describe('keysAuthenticator', () => {
  it('knows each key holder by Authorization: Bearer, with the roles configured for that key', () => {
    assert.deepEqual(plain(keys.authenticate(headers({ authorization: `Bearer ${ALICE_KEY}` }))), {
      name: 'alice@contoso.com',
      roles: ['submitter'],
    });
    assert.deepEqual(plain(keys.authenticate(headers({ Authorization: `bearer   ${BOB_KEY}` }))), {
      name: 'bob@contoso.com',
      roles: ['auditor', 'operator'],
    });
  });

  it('refuses a missing header, another scheme, and an unknown key, pointing at the header and never quoting it', () => {
    const cases: Array<Record<string, string>> = [
      {},
      { authorization: '' },
      { authorization: `Basic ${ALICE_KEY}` },
      { authorization: `Bearer ${ALICE_KEY}x` },
    ];

    const refusals = cases.map((values) => refusal(() => keys.authenticate(headers(values))));

    assert.deepEqual(
      refusals.map((r) => r.pointer),
      ['#/authorization', '#/authorization', '#/authorization', '#/authorization'],
    );
    assert.deepEqual(
      refusals.map((r) => r.message),
      [
        'credentials are required: send Authorization: Bearer <API key>',
        'credentials are required: send Authorization: Bearer <API key>',
        'Authorization must be Bearer followed by an API key',
        'the API key is not valid',
      ],
    );
    assert.equal(keys.challenge, 'Bearer realm="pchat"');
  });

  it('ignores X-MS-CLIENT-PRINCIPAL headers a caller sends: they identify no one in keys mode', () => {
    const forged = {
      'x-ms-client-principal': clientPrincipal({ claims: [{ typ: 'preferred_username', val: 'mallory' }] }),
      'x-ms-client-principal-name': 'mallory',
    };

    assert.equal(refusal(() => keys.authenticate(headers(forged))).pointer, '#/authorization');
    assert.equal(keys.authenticate(headers({ ...forged, authorization: `Bearer ${ALICE_KEY}` })).name, 'alice@contoso.com');
  });
});

describe('findKeyHolder (constant-time lookup)', () => {
  const entries = ['one', 'two', 'three', 'four'].map((name) => ({ name, digest: Buffer.from(name.padEnd(32, '.')) }));

  it('compares the presented digest with every configured key, even when the first one matches', () => {
    for (const target of entries) {
      let comparisons = 0;
      const counting = (a: Buffer, b: Buffer) => (comparisons++, a.equals(b));

      const found = findKeyHolder(entries, target.digest, counting);

      assert.deepEqual([found?.name, comparisons], [target.name, entries.length]);
    }
  });

  it('finds no one for a digest no key has, after comparing them all', () => {
    let comparisons = 0;
    const found = findKeyHolder(entries, Buffer.from('none'.padEnd(32, '.')), (a, b) => (comparisons++, a.equals(b)));

    assert.deepEqual([found, comparisons], [undefined, entries.length]);
  });
});

describe('easyAuthAuthenticator (X-MS-CLIENT-PRINCIPAL)', () => {
  const easyauth = easyAuthAuthenticator();
  const signedIn = (value: unknown) => easyauth.authenticate(headers({ 'x-ms-client-principal': clientPrincipal(value) }));

  it('names a user by preferred_username and takes the roles of the role_typ claims, ours only', () => {
    const principal = signedIn({
      auth_typ: 'aad',
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
      role_typ: 'roles',
      claims: [
        { typ: OID, val: '5b5450db-eb26-4c1a-981c-ba1d25f0483d' },
        { typ: 'preferred_username', val: 'alice@contoso.com' },
        { typ: 'roles', val: 'auditor' },
        { typ: 'roles', val: 'Global.Admin' },
        { typ: 'groups', val: 'operator' },
      ],
    });

    assert.deepEqual(plain(principal), { name: 'alice@contoso.com', roles: ['auditor'] });
  });

  it('falls back to a service principal appid or azp, then to the object id', () => {
    const appOnly = signedIn({
      auth_typ: 'aad',
      role_typ: 'roles',
      claims: [
        { typ: 'appid', val: 'app-1' },
        { typ: OID, val: 'oid-1' },
      ],
    });
    const azpOnly = signedIn({
      auth_typ: 'aad',
      role_typ: 'roles',
      claims: [
        { typ: 'azp', val: 'app-2' },
        { typ: 'oid', val: 'oid-2' },
      ],
    });
    const oidOnly = signedIn({ auth_typ: 'aad', role_typ: 'roles', claims: [{ typ: OID, val: 'oid-3' }] });
    const shortOid = signedIn({ auth_typ: 'aad', role_typ: 'roles', claims: [{ typ: 'oid', val: 'oid-4' }] });

    assert.deepEqual(
      [appOnly, azpOnly, oidOnly, shortOid].map((p) => p.name),
      ['app-1', 'app-2', 'oid-3', 'oid-4'],
    );
  });

  it('takes roles from whatever claim type role_typ names, and from `roles` claims with Entra whose role_typ is the WS-Fed URI', () => {
    const custom = signedIn({
      auth_typ: 'oidc',
      role_typ: 'app_role',
      claims: [
        { typ: 'preferred_username', val: 'carol' },
        { typ: 'app_role', val: 'operator' },
        { typ: 'roles', val: 'auditor' },
      ],
    });
    const entra = signedIn({
      auth_typ: 'aad',
      role_typ: ENTRA_ROLE_TYP,
      claims: [
        { typ: 'preferred_username', val: 'dave' },
        { typ: 'roles', val: 'submitter' },
        { typ: ENTRA_ROLE_TYP, val: 'reader' },
      ],
    });

    assert.deepEqual(
      [plain(custom), plain(entra)],
      [
        { name: 'carol', roles: ['operator'] },
        { name: 'dave', roles: ['reader', 'submitter'] },
      ],
    );
  });

  it('refuses (401, never a 500) an absent, non-base64, non-JSON or misshapen header, and a principal with no name', () => {
    const raw = (value: string) => refusal(() => easyauth.authenticate(headers({ 'x-ms-client-principal': value })));
    const refusals = [
      refusal(() => easyauth.authenticate(headers({}))),
      raw('not base64!'),
      raw(Buffer.from('{"claims": [').toString('base64')),
      raw(Buffer.from([0xff, 0xfe, 0xfd]).toString('base64')),
      raw(clientPrincipal({ claims: 'none' })),
      raw(clientPrincipal([1, 2])),
      raw(clientPrincipal({ role_typ: 'roles', claims: [{ typ: 'roles', val: 'auditor' }] })),
      raw('A'.repeat(70_000)),
    ];

    assert.deepEqual(
      refusals.map((r) => r.message),
      [
        'sign-in is required',
        'X-MS-CLIENT-PRINCIPAL is not base64',
        'X-MS-CLIENT-PRINCIPAL is not base64-encoded UTF-8 JSON',
        'X-MS-CLIENT-PRINCIPAL is not base64-encoded UTF-8 JSON',
        'X-MS-CLIENT-PRINCIPAL is not a client principal ({auth_typ, name_typ, role_typ, claims: [{typ, val}]})',
        'X-MS-CLIENT-PRINCIPAL is not a client principal ({auth_typ, name_typ, role_typ, claims: [{typ, val}]})',
        'X-MS-CLIENT-PRINCIPAL names no preferred_username, appid, azp or object id',
        'X-MS-CLIENT-PRINCIPAL is longer than 65536 characters',
      ],
    );
    assert.ok(refusals.every((r) => r.pointer === '#/x-ms-client-principal'));
    assert.equal(easyauth.challenge, 'Bearer realm="pchat", authorization_uri="/.auth/login/aad"');
  });

  it('refuses a principal name over 256 characters, with a lone surrogate, or with a control character, naming the reason', () => {
    const named = (name: string) =>
      refusal(() => principalFromClientPrincipal(clientPrincipal({ claims: [{ typ: 'preferred_username', val: name }] }))).message;

    assert.deepEqual(
      [named('x'.repeat(257)), named('mallory\uD800'), named('mal\u0000lory'), named('\uDC00'), named('mal\u2028lory')],
      [
        'the principal name must be at most 256 characters',
        'the principal name must be well-formed Unicode (no lone surrogates)',
        'the principal name must not contain control characters or line separators',
        'the principal name must be well-formed Unicode (no lone surrogates)',
        'the principal name must not contain control characters or line separators',
      ],
    );
    // At the bound, and a well-formed pair, are fine.
    assert.equal(principalFromClientPrincipal(clientPrincipal({ claims: [{ typ: 'oid', val: 'é'.repeat(256) }] })).name.length, 256);
    assert.equal(principalFromClientPrincipal(clientPrincipal({ claims: [{ typ: 'oid', val: 'bot \uD83E\uDD16' }] })).name, 'bot 🤖');
  });
});

describe('openAuthenticator (AUTH_MODE=off)', () => {
  it('makes every caller anonymous with every role, whatever it sends', () => {
    const principal = openAuthenticator().authenticate(
      headers({ authorization: 'Bearer whatever', 'x-ms-client-principal-name': 'mallory' }),
    );

    assert.equal(principal, ANONYMOUS);
    assert.deepEqual(plain(principal), { name: 'anonymous', roles: ['auditor', 'operator', 'reader', 'submitter'] });
  });
});
