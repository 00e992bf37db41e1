import { performance } from 'node:perf_hooks';
import { startE2EEnvironment } from '../support/localHost';

/**
 * `npm run bench`: end-to-end figures on this machine, against in-process Azurite and the local
 * host over loopback HTTP. Reports latency of accepting a request, time to applied, and throughput.
 */
const POOLS = Number(process.env.BENCH_POOLS ?? 100);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

/**
 * Waits for every request to leave `accepted`, and says when each was first seen settled. One
 * sequential poller (not one per request): a hundred polling loops would mostly measure themselves.
 */
async function settleAll(
  baseUrl: string,
  authorization: string,
  locations: string[],
  timeoutMs = 180_000,
): Promise<Array<{ status: string; at: number }>> {
  const results: Array<{ status: string; at: number } | undefined> = locations.map(() => undefined);
  const deadline = performance.now() + timeoutMs;
  while (results.some((r) => r === undefined)) {
    if (performance.now() > deadline) throw new Error('requests still accepted at the deadline');
    for (const [i, location] of locations.entries()) {
      if (results[i]) continue;
      const body = (await (await fetch(new URL(location, baseUrl), { headers: { authorization } })).json()) as { status: string };
      if (body.status !== 'accepted') results[i] = { status: body.status, at: performance.now() };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return results as Array<{ status: string; at: number }>;
}

async function main(): Promise<void> {
  const env = await startE2EEnvironment();
  const authorization = `Bearer ${env.keys.all}`;
  const post = (path: string, body?: unknown, method = 'POST', headers: Record<string, string> = {}) =>
    fetch(`${env.baseUrl}${path}`, {
      method,
      headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
  try {
    const pools = Array.from({ length: POOLS }, (_, i) => `bench${i}.contoso.com`);
    let started = performance.now();
    for (const fqdn of pools) await post(`/topology/pools/${fqdn}`, undefined, 'PUT');
    const topologyMs = (performance.now() - started) / POOLS;

    started = performance.now();
    const accepted = await Promise.all(
      pools.map(async (fqdn, i) => {
        const t0 = performance.now();
        const response = await post('/change-requests', { operation: 'create', sipAddress: `sip:chat${i}@contoso.com`, poolFqdn: fqdn });
        return { latency: performance.now() - t0, location: response.headers.get('location') as string, t0 };
      }),
    );
    const settledCreates = await settleAll(
      env.baseUrl,
      authorization,
      accepted.map((a) => a.location),
    );
    if (settledCreates.some((r) => r.status !== 'applied')) throw new Error('every create should be applied');
    const toApplied = settledCreates.map((r, i) => r.at - (accepted[i]?.t0 ?? 0));
    const createsSeconds = (performance.now() - started) / 1000;

    await post('/topology/pools/contested.contoso.com', undefined, 'PUT');
    started = performance.now();
    const contested = await Promise.all(
      Array.from({ length: 50 }, () =>
        post('/change-requests', { operation: 'create', sipAddress: 'sip:contest@contoso.com', poolFqdn: 'contested.contoso.com' }),
      ),
    );
    const outcomes = await settleAll(
      env.baseUrl,
      authorization,
      contested.map((r) => r.headers.get('location') as string),
    );
    const contestedSeconds = (performance.now() - started) / 1000;

    // One at a time: the latency of admitting a request when the machine is not saturated, and of a keyed retry.
    const sequential: number[] = [];
    const replays: number[] = [];
    for (let i = 0; i < 50; i++) {
      const request = { operation: 'delete', sipAddress: `sip:seq${i}@contoso.com` };
      let t0 = performance.now();
      await (await post('/change-requests', request, 'POST', { 'idempotency-key': `bench-${i}` })).arrayBuffer();
      sequential.push(performance.now() - t0);
      t0 = performance.now();
      await (await post('/change-requests', request, 'POST', { 'idempotency-key': `bench-${i}` })).arrayBuffer();
      replays.push(performance.now() - t0);
    }

    const reads: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await (
        await fetch(`${env.baseUrl}/endpoints/${encodeURIComponent(`sip:chat${i % POOLS}@contoso.com`)}`, { headers: { authorization } })
      ).arrayBuffer();
      reads.push(performance.now() - t0);
    }

    console.log(`pipeline benchmark (Node ${process.version}, in-process Azurite, loopback HTTP)`);
    console.log(`  register pool (PUT, audited commit)      mean ${ms(topologyMs)}`);
    console.log(
      `  POST /change-requests (202)              p50 ${ms(
        percentile(
          accepted.map((a) => a.latency),
          50,
        ),
      )}  p95 ${ms(
        percentile(
          accepted.map((a) => a.latency),
          95,
        ),
      )}  (${POOLS} concurrent)`,
    );
    console.log(`  accepted -> applied                      p50 ${ms(percentile(toApplied, 50))}  p95 ${ms(percentile(toApplied, 95))}`);
    console.log(`  ${POOLS} creates on ${POOLS} pools end to end      ${(POOLS / createsSeconds).toFixed(1)} applied/s`);
    console.log(
      `  50 concurrent creates of one address     ${contestedSeconds.toFixed(2)} s; applied ${outcomes.filter((o) => o.status === 'applied').length}, rejected ${outcomes.filter((o) => o.status === 'rejected').length}`,
    );
    console.log(`  POST one at a time, with Idempotency-Key  p50 ${ms(percentile(sequential, 50))}  p95 ${ms(percentile(sequential, 95))}`);
    console.log(`  its retry (replayed 202)                 p50 ${ms(percentile(replays, 50))}  p95 ${ms(percentile(replays, 95))}`);
    console.log(`  GET /endpoints/{sipAddress}              p50 ${ms(percentile(reads, 50))}  p95 ${ms(percentile(reads, 95))}`);
  } finally {
    await env.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
