import { performance } from 'node:perf_hooks';
import { settled, startE2EEnvironment } from '../support/localHost';

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

async function main(): Promise<void> {
  const env = await startE2EEnvironment();
  const post = (path: string, body?: unknown, method = 'POST') =>
    fetch(`${env.baseUrl}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  try {
    const pools = Array.from({ length: POOLS }, (_, i) => `bench${i}.contoso.com`);
    let started = performance.now();
    for (const fqdn of pools) await post(`/topology/pools/${fqdn}`, undefined, 'PUT');
    const topologyMs = (performance.now() - started) / POOLS;

    started = performance.now();
    const accepted = await Promise.all(pools.map(async (fqdn, i) => {
      const t0 = performance.now();
      const response = await post('/change-requests', { operation: 'create', sipAddress: `sip:chat${i}@contoso.com`, poolFqdn: fqdn });
      return { latency: performance.now() - t0, location: response.headers.get('location') as string, t0 };
    }));
    const toApplied = await Promise.all(accepted.map(async (a) => {
      const result = await settled(env.baseUrl, a.location, 120_000);
      if (result.status !== 'applied') throw new Error(`expected applied, got ${result.status}`);
      return performance.now() - a.t0;
    }));
    const createsSeconds = (performance.now() - started) / 1000;

    await post('/topology/pools/contested.contoso.com', undefined, 'PUT');
    started = performance.now();
    const contested = await Promise.all(Array.from({ length: 50 }, () => post('/change-requests', { operation: 'create', sipAddress: 'sip:contest@contoso.com', poolFqdn: 'contested.contoso.com' })));
    const outcomes = await Promise.all(contested.map((r) => settled(env.baseUrl, r.headers.get('location') as string, 120_000)));
    const contestedSeconds = (performance.now() - started) / 1000;

    const reads: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await (await fetch(`${env.baseUrl}/endpoints/${encodeURIComponent(`sip:chat${i % POOLS}@contoso.com`)}`)).arrayBuffer();
      reads.push(performance.now() - t0);
    }

    console.log(`pipeline benchmark (Node ${process.version}, in-process Azurite, loopback HTTP)`);
    console.log(`  register pool (PUT, audited commit)      mean ${ms(topologyMs)}`);
    console.log(`  POST /change-requests (202)              p50 ${ms(percentile(accepted.map((a) => a.latency), 50))}  p95 ${ms(percentile(accepted.map((a) => a.latency), 95))}  (${POOLS} concurrent)`);
    console.log(`  accepted -> applied                      p50 ${ms(percentile(toApplied, 50))}  p95 ${ms(percentile(toApplied, 95))}`);
    console.log(`  ${POOLS} creates on ${POOLS} pools end to end      ${(POOLS / createsSeconds).toFixed(1)} applied/s`);
    console.log(`  50 concurrent creates of one address     ${contestedSeconds.toFixed(2)} s; applied ${outcomes.filter((o) => o.status === 'applied').length}, rejected ${outcomes.filter((o) => o.status === 'rejected').length}`);
    console.log(`  GET /endpoints/{sipAddress}              p50 ${ms(percentile(reads, 50))}  p95 ${ms(percentile(reads, 95))}`);
  } finally {
    await env.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
