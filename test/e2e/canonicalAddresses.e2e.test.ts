import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aTopology, auditFor, pathOf, submitAndSettle } from '../support/apiData';
import { apiClient, startE2EEnvironment, type ApiCall, type E2EEnvironment } from '../support/localHost';

let env: E2EEnvironment;

const call: ApiCall = (...args) => apiClient(env.baseUrl, env.keys.all)(...args);

// RFC 3261 §19.1.4: an escaped unreserved character is the character. sip:ocs%63hat@… and
// sip:ocschat@… are one address, so the directory must give it one holder (issue 9).
describe('one SIP address, one spelling, over HTTP on the local host', () => {
  before(async () => {
    env = await startE2EEnvironment({ loadDemoTopology: false });
  });
  after(async () => {
    await env.stop();
  });

  it('rejects creating sip:ocs%63hat@… as held while the directory user sip:ocschat@… exists, and stores nothing under either spelling', async () => {
    const topology = await aTopology(call, { users: ['ocschat'] });
    const escaped = `sip:ocs%63hat@${topology.domain}`;
    const canonical = `sip:ocschat@${topology.domain}`;

    const settled = await submitAndSettle(call, { operation: 'create', sipAddress: escaped, poolFqdn: topology.pool() });

    assert.equal(settled.status, 'rejected');
    assert.equal(settled.reason.code, 'sip_address_held_by_user');
    assert.equal(settled.request.sipAddress, canonical);
    assert.equal((await call('GET', `/endpoints/${pathOf(escaped)}`)).status, 404);
    assert.equal((await call('GET', `/endpoints/${pathOf(canonical)}`)).status, 404);
    const topologyNow = (await call('GET', '/topology')).body;
    assert.deepEqual(
      topologyNow.users
        .filter((u: { sipAddress: string }) => u.sipAddress.endsWith(`@${topology.domain}`))
        .map((u: { sipAddress: string }) => u.sipAddress),
      [canonical],
    );
    // Audited once, under the one spelling, and found by either.
    const records = await auditFor(call, canonical);
    assert.deepEqual(
      records.map((r) => [r.action, r.outcome.status]),
      [
        ['endpoint.create-rejected', 'rejected'],
        ['directory-user.added', 'applied'],
      ],
    );
    assert.deepEqual(await auditFor(call, escaped), records);
  });

  it('finds an endpoint created under an escaped spelling by its canonical one, and refuses the canonical one as already held', async () => {
    const topology = await aTopology(call, { pools: 2 });
    const escaped = `sip:p%65rsistentchat@${topology.domain}`;
    const canonical = `sip:persistentchat@${topology.domain}`;

    const created = await submitAndSettle(call, { operation: 'create', sipAddress: escaped, poolFqdn: topology.pool(0) });
    const again = await submitAndSettle(call, { operation: 'create', sipAddress: canonical, poolFqdn: topology.pool(1) });

    assert.equal(created.status, 'applied');
    assert.equal(again.status, 'rejected');
    assert.equal(again.reason.code, 'sip_address_held_by_endpoint');
    assert.equal((await call('GET', `/endpoints/${pathOf(canonical)}`)).body.sipAddress, canonical);
    assert.equal((await call('GET', `/endpoints/${pathOf(escaped)}`)).body.sipAddress, canonical);
  });
});
