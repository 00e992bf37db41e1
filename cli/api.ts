import { CliExit, ExitCode, usage } from './exit';
import { printable } from './output';

/**
 * The HTTP side of the command line: where the app is, the key, one call, and what an answer
 * that is not a success means as an exit code and lines for stderr. Uses Node's own fetch.
 */

/** The app's API root (`<origin>/api`) from `--url`, else PCHAT_URL, else http://localhost:${PORT:-7071}. */
export function apiRootFrom(url: string | undefined, env: NodeJS.ProcessEnv): string {
  const given = url ?? env.PCHAT_URL;
  const parameter = url !== undefined ? '--url' : 'PCHAT_URL';
  const text = given ?? `http://localhost:${env.PORT || '7071'}`;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw usage(parameter, `must be the app's origin, such as http://localhost:7071 or https://<app>.azurewebsites.net`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usage(parameter, 'must be an http or https URL');
  // A key travels in the Authorization header, never in the URL, so the URL carries no user info.
  if (parsed.username || parsed.password)
    throw usage(parameter, 'must not hold a user name or password (the key comes from PCHAT_API_KEY)');
  if (parsed.search || parsed.hash) throw usage(parameter, 'must not have a query or a fragment');
  const path = parsed.pathname.replace(/\/+$/, '');
  if (path !== '' && path !== '/api') throw usage(parameter, 'must be the origin alone, or the origin followed by /api');
  return `${parsed.origin}/api`;
}

/** PCHAT_API_KEY, checked to be something an Authorization header can carry (the key itself is never printed). */
export function apiKeyFrom(env: NodeJS.ProcessEnv): string | undefined {
  const key = env.PCHAT_API_KEY;
  if (key === undefined || key === '') return undefined;
  if (!/^[\x21-\x7e]{1,4096}$/.test(key))
    throw usage('PCHAT_API_KEY', 'must be 1-4096 visible ASCII characters (export one of the keys npm start wrote)');
  return key;
}

/** An answer, its body parsed when it is JSON. */
export interface Answer {
  status: number;
  headers: Headers;
  /** Parsed JSON, the text when it is not JSON, undefined when empty; each command reads the shape its route documents. */
  body: unknown;
}

/** A query string's values; undefined ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** What a failure's field errors are called on this command line: API field name -> parameter (`sipAddress` -> `-SipAddress`). */
export type ParameterNames = Record<string, string>;

export interface ApiOptions {
  root: string;
  key: string | undefined;
  /** How long one HTTP call may take. */
  callTimeoutMs: number;
}

export class Api {
  constructor(private readonly options: ApiOptions) {}

  /** The URL of a path under /api with its query. */
  url(path: string, query: Query = {}): string {
    const url = new URL(`${this.options.root}${path}`);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }

  /** Sends one call and returns the raw response (the export streams its body); a transport failure is exit 3. */
  async send(method: string, path: string, query: Query = {}, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.options.key !== undefined) headers.authorization = `Bearer ${this.options.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = this.url(path, query);
    try {
      return await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.callTimeoutMs),
      });
    } catch (error) {
      throw unreachable(this.options.root, error);
    }
  }

  /** Sends one call and reads its body. */
  async call(method: string, path: string, query: Query = {}, body?: unknown): Promise<Answer> {
    const response = await this.send(method, path, query, body);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw unreachable(this.options.root, error);
    }
    return { status: response.status, headers: response.headers, body: parseJson(text) };
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Why the app could not be reached: the cause's code (ECONNREFUSED, ENOTFOUND) or a timeout. */
function unreachable(root: string, error: unknown): CliExit {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const name = (error as { name?: string }).name;
  const why = name === 'TimeoutError' || name === 'AbortError' ? 'no answer in time' : (cause?.code ?? cause?.message ?? String(error));
  return new CliExit(ExitCode.unavailable, [`cannot reach ${root}: ${why} (is the app running? set --url or PCHAT_URL)`]);
}

/** The exit code an unsuccessful HTTP status means. */
export function exitCodeOf(status: number): ExitCode {
  if (status === 400 || status === 413 || status === 415 || status === 422) return ExitCode.usage;
  if (status === 404 || status === 409) return ExitCode.no;
  return ExitCode.unavailable;
}

/** A failed answer as an exit: the problem's code and detail, each field error under the parameter it came from, and hints. */
export function failureOf(answer: Answer, names: ParameterNames = {}): CliExit {
  return new CliExit(exitCodeOf(answer.status), problemLines(answer, names));
}

export function problemLines(answer: Answer, names: ParameterNames = {}): string[] {
  const body = (typeof answer.body === 'object' && answer.body !== null ? answer.body : {}) as Record<string, unknown>;
  const code = typeof body.code === 'string' ? body.code : `http_${answer.status}`;
  const detail = typeof body.detail === 'string' ? body.detail : typeof answer.body === 'string' ? answer.body.slice(0, 500) : '';
  const lines = [`${printable(code)}: ${printable(detail)} (HTTP ${answer.status})`];
  if (Array.isArray(body.errors))
    for (const error of body.errors as Array<{ pointer?: unknown; detail?: unknown }>) {
      lines.push(`  ${parameterOf(printable(error.pointer), names)}: ${printable(error.detail)}`);
    }
  if (typeof body.changeRequestStatus === 'string') lines.push(`  status: ${printable(body.changeRequestStatus)}`);
  if (Array.isArray(body.matches)) lines.push(`  matches: ${body.matches.map(printable).join(', ')}`);
  if (answer.status === 401) lines.push('  set PCHAT_API_KEY to a key the app knows (npm start: . .azurite/local-api-keys.env)');
  const retryAfter = answer.headers.get('retry-after');
  if (retryAfter && (answer.status === 429 || answer.status === 503)) lines.push(`  try again in ${printable(retryAfter)} s`);
  return lines;
}

/** The parameter a JSON pointer (`#/sipAddress`) names on this command line, else the pointer itself. */
export function parameterOf(pointer: string, names: ParameterNames): string {
  const field = pointer.split('/').pop() ?? '';
  // The credentials are refused in the Authorization header, which this command line fills from PCHAT_API_KEY.
  if (field === 'authorization') return 'PCHAT_API_KEY';
  return names[field] ?? (pointer || 'request');
}

/** Retry-After as milliseconds (seconds or an HTTP date), or undefined. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
