import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectoryQueries, EndpointFilter } from '../../../../shared/application/ports/directoryQueries';
import { listEndpointsHttp } from '../../../../shared/entrypoints/http/endpointsHttp';
import type { HttpInput } from '../../../../shared/entrypoints/http/httpInput';
import { Role } from '../../../../shared/domain/principal';
import { fakeAuthenticator } from '../../../support/fakeAuthenticator';
import { recordingLog } from '../../../support/storeHarness';

/** GET /api/endpoints as a plain function: the query's wildcard limits, with a queries fake that records what it was asked. */

function fakeQueries(): DirectoryQueries & { asked: EndpointFilter[] } {
  const asked: EndpointFilter[] = [];
  return {
    asked,
    endpoints: async (filter) => {
      asked.push(filter);
      return { items: [], nextCursor: null };
    },
    changeRequest: async () => undefined,
    changeRequests: async () => ({ items: [], nextCursor: null }),
    holder: async () => undefined,
    endpointsNamed: async () => [],
    topology: async () => ({ sipDomains: [], pools: [], users: [] }),
    isEmpty: async () => true,
  };
}

function aGet(query: Record<string, string>): HttpInput {
  const search = new URLSearchParams(query);
  return {
    method: 'GET',
    url: `http://localhost:7071/api/endpoints?${search.toString()}`,
    headers: { get: () => null },
    params: {},
    query: search,
    text: async () => '',
  };
}

async function list(query: Record<string, string>) {
  const queries = fakeQueries();
  const response = await listEndpointsHttp(
    { queries, log: recordingLog(), authenticator: fakeAuthenticator({ name: 'reader@contoso.com', roles: new Set([Role.reader]) }) },
    aGet(query),
  );
  const body = JSON.parse(response.body as string) as { code?: string; errors?: Array<{ pointer: string; detail: string }> };
  return { status: response.status, body, asked: queries.asked };
}

describe('listEndpointsHttp', () => {
  for (const field of ['sipAddress', 'displayName']) {
    it(`answers 400 naming #/${field} when its pattern holds 17 wildcards, and asks storage nothing`, async () => {
      const { status, body, asked } = await list({ [field]: `${'*a'.repeat(16)}*b` });

      assert.equal(status, 400);
      assert.deepEqual(
        body.errors?.map((e) => [e.pointer, e.detail]),
        [[`#/${field}`, `${field} must hold at most 16 * wildcards`]],
      );
      assert.deepEqual(asked, []);
    });

    it(`answers 400 naming #/${field} when its pattern is 257 characters`, async () => {
      const { status, body } = await list({ [field]: 'a'.repeat(257) });

      assert.equal(status, 400);
      assert.deepEqual(
        body.errors?.map((e) => [e.pointer, e.detail]),
        [[`#/${field}`, `${field} must be at most 256 characters`]],
      );
    });
  }

  it('passes a pattern at the limits on, the SIP address pattern spelled canonically', async () => {
    const { status, asked } = await list({ sipAddress: `SIP:OCS%63HAT%2f${'*'.repeat(16)}`, displayName: 'a'.repeat(256) });

    assert.equal(status, 200);
    assert.equal(asked[0]?.sipAddress, `sip:ocschat%2F${'*'.repeat(16)}`);
  });
});
