import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { APP_ROOT } from './localHost';

/**
 * The hostile suite's settings and figures: how many inputs, which seed, and what came back
 * (inputs and statuses per route, writes from refused inputs, the slowest answer, the refusals that
 * name no field). Printed at the end of a run and written to test-results/ for the closing note.
 */

/** A whole number from the environment, else the default. */
function whole(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`${name} must be a whole number, not "${text}"`);
  return Number(text);
}

/** How a run is set up: `HOSTILE_SEED` replays one, `HOSTILE_HTTP_RUNS` / `HOSTILE_QUEUE_RUNS` make it longer. */
export interface HostileSettings {
  seed: number;
  httpRuns: number;
  queueRuns: number;
  /** Only the route groups whose name contains this (HOSTILE_ONLY), to replay one failure quickly. */
  only: string | undefined;
  /** fast-check's replay path of a failure (HOSTILE_PATH), with HOSTILE_SEED and HOSTILE_ONLY. */
  path: string | undefined;
  /**
   * Survey mode (HOSTILE_KEEP_GOING=1): a route group runs all its inputs, noting the smallest
   * example of each kind of violation, and fails at the end, instead of stopping and shrinking at
   * the first. For a full picture (and full figures) while the product still breaks properties.
   */
  keepGoing: boolean;
}

/** Reads the suite's settings; the seed is random unless given, and always printed. */
export function hostileSettings(): HostileSettings {
  return {
    seed: whole('HOSTILE_SEED', Math.floor(Math.random() * 0x7fffffff)),
    httpRuns: whole('HOSTILE_HTTP_RUNS', 10_000),
    queueRuns: whole('HOSTILE_QUEUE_RUNS', 500),
    only: process.env.HOSTILE_ONLY || undefined,
    path: process.env.HOSTILE_PATH || undefined,
    keepGoing: process.env.HOSTILE_KEEP_GOING === '1',
  };
}

/** What one answered input adds to the figures. */
export interface Observation {
  /** The route (HTTP) or the kind of message (queue). */
  route: string;
  /** The HTTP status, or the status a queue message's change request ended in. */
  status: number | string;
  ms: number;
  /** Whether a refusal (400, 413, 415, 422) named no field with a JSON pointer. */
  refusalWithoutPointer: boolean;
  /** Writes attributed to the input, when it was refused (a 4xx not from a domain rule). */
  refusedWrites: number;
  /** A short description of the input, for the slowest answer. */
  describe: () => string;
}

/** The figures of one suite run. */
export class HostileReport {
  private readonly statuses = new Map<string, Map<string, number>>();
  private readonly time = new Map<string, number>();
  private readonly withoutPointer = new Map<string, number>();
  private readonly failures: string[] = [];
  private refusedWrites = 0;
  private refusedInputsThatWrote = 0;
  private slowest: { route: string; ms: number; input: string } | undefined;
  private readonly started = Date.now();

  constructor(
    private readonly title: string,
    private readonly seed: number,
    /** What the slowest figure measures (an HTTP answer, a message settling). */
    private readonly slowestIs = 'slowest answer',
  ) {}

  /** Adds one answered input. */
  observe(observation: Observation): void {
    const byStatus = this.statuses.get(observation.route) ?? new Map<string, number>();
    this.time.set(observation.route, (this.time.get(observation.route) ?? 0) + observation.ms);
    const status = String(observation.status);
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.statuses.set(observation.route, byStatus);
    if (observation.refusalWithoutPointer) {
      const key = `${observation.status} ${observation.route}`;
      this.withoutPointer.set(key, (this.withoutPointer.get(key) ?? 0) + 1);
    }
    if (observation.refusedWrites > 0) {
      this.refusedWrites += observation.refusedWrites;
      this.refusedInputsThatWrote++;
    }
    if (!this.slowest || observation.ms > this.slowest.ms)
      this.slowest = { route: observation.route, ms: observation.ms, input: observation.describe().slice(0, 300) };
  }

  /** Notes a property failure (with its seed and counterexample) for the summary. */
  fail(message: string): void {
    this.failures.push(message);
  }

  /** The figures as plain data. */
  figures(): Record<string, unknown> {
    const perRoute = Object.fromEntries(
      [...this.statuses].map(([route, byStatus]) => [
        route,
        {
          inputs: [...byStatus.values()].reduce((a, b) => a + b, 0),
          meanMs: Math.round((this.time.get(route) ?? 0) / [...byStatus.values()].reduce((a, b) => a + b, 0)),
          statuses: Object.fromEntries([...byStatus].sort(([a], [b]) => a.localeCompare(b))),
        },
      ]),
    );
    return {
      suite: this.title,
      seed: this.seed,
      seconds: Math.round((Date.now() - this.started) / 100) / 10,
      inputs: Object.values(perRoute).reduce((total: number, route) => total + route.inputs, 0),
      perRoute,
      refusedInputsThatWrote: this.refusedInputsThatWrote,
      writesFromRefusedInputs: this.refusedWrites,
      slowest: this.slowest ?? null,
      refusalsWithoutFieldPointer: Object.fromEntries(this.withoutPointer),
      failures: this.failures,
    };
  }

  /** Writes the figures so far to test-results/<file> (after each route group: the watchdog may end the process). */
  save(file: string): void {
    const directory = path.join(APP_ROOT, 'test-results');
    mkdirSync(directory, { recursive: true });
    writeFileSync(path.join(directory, file), `${JSON.stringify(this.figures(), null, 2)}\n`);
  }

  /** Prints the figures and writes them to test-results/<file>. */
  print(file: string): void {
    const figures = this.figures();
    const lines = [`${this.title}: seed ${this.seed} (replay with HOSTILE_SEED=${this.seed}), ${String(figures.seconds)} s`];
    for (const [route, { inputs, meanMs, statuses }] of Object.entries(
      figures.perRoute as Record<string, { inputs: number; meanMs: number; statuses: object }>,
    )) {
      const counts = Object.entries(statuses)
        .map(([status, count]) => `${status}×${String(count)}`)
        .join(' ');
      lines.push(`  ${route.padEnd(44)} ${String(inputs).padStart(6)} inputs ${String(meanMs).padStart(5)} ms mean  ${counts}`);
    }
    lines.push(`  inputs in all: ${String(figures.inputs)}`);
    lines.push(`  writes from refused inputs: ${this.refusedWrites} (by ${this.refusedInputsThatWrote} inputs)`);
    if (this.slowest) lines.push(`  ${this.slowestIs}: ${this.slowest.route} ${this.slowest.ms.toFixed(1)} ms (${this.slowest.input})`);
    for (const [key, count] of this.withoutPointer) lines.push(`  refusal without a field pointer: ${key} ×${count}`);
    for (const failure of this.failures) lines.push(`  FAILED: ${failure.split('\n').slice(0, 16).join('\n          ')}`);
    console.log(lines.join('\n'));
    this.save(file);
  }
}
