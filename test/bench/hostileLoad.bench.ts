import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { aTopology } from '../support/apiData';
import { credentialFor, routeGroups, send, type HostileRequest } from '../support/hostileHttp';
import { hostileSettings } from '../support/hostileReport';
import { startWatchdog } from '../support/hostileWatchdog';
import { apiClient, startE2EEnvironment, type ApiCall } from '../support/localHost';

/**
 * `npm run bench:hostile`: how fast well-behaved callers are answered while hostile input arrives
 * (issue 9: a benchmark figure, not a timed assertion). In one run, against in-process Azurite and
 * the local host over loopback: the latency of GET /api/endpoints and POST /api/change-requests
 * alone, then the same calls while HOSTILE_BENCH_STREAMS concurrent callers send the hostile suite's
 * generated inputs (seeded: HOSTILE_SEED); medians, p95, spread and the ratio.
 *
 * HOSTILE_BENCH_CALLS: well-behaved calls of each kind per phase (default 200).
 * HOSTILE_BENCH_SKIP: leave out route groups whose name contains it (e.g. "GET /endpoints" while a
 * backtracking wildcard matcher would freeze the host for minutes; the watchdog reports that).
 */
const CALLS = Number(process.env.HOSTILE_BENCH_CALLS ?? 200);
const STREAMS = Number(process.env.HOSTILE_BENCH_STREAMS ?? 4);
const SKIP = process.env.HOSTILE_BENCH_SKIP || undefined;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;

/** Median, p95 and spread (p5-p95, and the interquartile range) of latencies. */
function summary(values: number[]) {
  return {
    median: percentile(values, 50),
    p95: percentile(values, 95),
    p5: percentile(values, 5),
    iqr: percentile(values, 75) - percentile(values, 25),
    max: Math.max(...values),
  };
}

async function main(): Promise<void> {
  const settings = hostileSettings();
  const env = await startE2EEnvironment({ loadDemoTopology: false });
  const watchdog = startWatchdog(60_000);
  const call: ApiCall = (method, path, body, headers = {}) =>
    apiClient(env.baseUrl)(method, path, body, { ...credentialFor(env, 'all'), ...headers });
  try {
    const topology = await aTopology(call, { pools: 8, users: ['ocschat'] });
    const world = {
      domain: topology.domain,
      pools: topology.pools,
      users: topology.users,
      endpoints: topology.defaultEndpoints,
      freeAddresses: ['free1', 'free2'].map((user) => topology.address(user)),
      changeRequestIds: ['00000000-0000-4000-8000-000000000000'],
      correlationIds: [topology.correlationId],
    };

    // The well-behaved caller: a page of endpoints, then a create (202; the worker settles it).
    let created = 0;
    const wellBehaved = async (phase: string) => {
      const reads: number[] = [];
      const writes: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        let t0 = performance.now();
        const list = await call('GET', `/endpoints?sipAddress=${encodeURIComponent(`sip:*@${topology.domain}`)}&limit=50`);
        reads.push(performance.now() - t0);
        if (list.status !== 200) throw new Error(`${phase}: GET /endpoints answered ${list.status}`);
        created++;
        t0 = performance.now();
        const post = await call('POST', '/change-requests', {
          operation: 'create',
          sipAddress: topology.address(`bench${created}`),
          poolFqdn: topology.pool(created % topology.pools.length),
        });
        writes.push(performance.now() - t0);
        if (post.status !== 202) throw new Error(`${phase}: POST /change-requests answered ${post.status}`);
      }
      return { reads: summary(reads), writes: summary(writes) };
    };

    // The hostile stream: the suite's generated inputs, in proportion to its route weights, from concurrent callers.
    const groups = routeGroups(world).filter((group) => SKIP === undefined || !group.name.includes(SKIP));
    const pool: HostileRequest[] = groups.flatMap((group, i) =>
      fc.sample(group.arbitrary, { seed: settings.seed + i, numRuns: Math.max(1, Math.round(group.weight / 5)) }),
    );
    let stop = false;
    let hostileSent = 0;
    let hostile5xx = 0;
    const stream = async (offset: number) => {
      for (let i = offset; !stop; i += STREAMS) {
        const input = pool[i % pool.length] as HostileRequest;
        watchdog.inFlight(`bench hostile input ${i}: ${input.route}`);
        const answer = await send(env, input, `bench-hostile-${i}`);
        hostileSent++;
        if (answer.status >= 500 || answer.status === 0) hostile5xx++;
      }
    };

    await wellBehaved('warm-up');
    const alone = await wellBehaved('alone');
    const started = performance.now();
    const streams = Array.from({ length: STREAMS }, (_, i) => stream(i));
    const underAttack = await wellBehaved('under hostile input');
    const seconds = (performance.now() - started) / 1000;
    stop = true;
    await Promise.all(streams);

    const line = (label: string, a: ReturnType<typeof summary>, b: ReturnType<typeof summary>) =>
      [
        `  ${label.padEnd(26)} alone   median ${ms(a.median)}  p95 ${ms(a.p95)}  p5-p95 ${ms(a.p5)}-${ms(a.p95)}  IQR ${ms(a.iqr)}  max ${ms(a.max)}`,
        `  ${''.padEnd(26)} hostile median ${ms(b.median)}  p95 ${ms(b.p95)}  p5-p95 ${ms(b.p5)}-${ms(b.p95)}  IQR ${ms(b.iqr)}  max ${ms(b.max)}`,
        `  ${''.padEnd(26)} ratio   median ×${(b.median / a.median).toFixed(2)}  p95 ×${(b.p95 / a.p95).toFixed(2)}`,
      ].join('\n');
    console.log(`hostile load benchmark (Node ${process.version}, in-process Azurite, loopback HTTP), seed ${settings.seed}`);
    console.log(`  ${CALLS} calls of each kind per phase, one well-behaved caller; hostile stream: ${STREAMS} concurrent callers`);
    console.log(
      `  hostile inputs sent while measuring: ${hostileSent} (${(hostileSent / seconds).toFixed(0)}/s), of which 5xx or unanswered: ${hostile5xx}`,
    );
    if (SKIP) console.log(`  route groups left out: ${SKIP}`);
    console.log(line('GET /api/endpoints', alone.reads, underAttack.reads));
    console.log(line('POST /api/change-requests', alone.writes, underAttack.writes));
  } finally {
    await watchdog.stop();
    await env.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
