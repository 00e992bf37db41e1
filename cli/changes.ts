import { failureOf, parameterOf, retryAfterMs, type Answer, type ParameterNames, type Query } from './api';
import type { Context } from './context';
import { CliExit, ExitCode } from './exit';
import { block, printable, show, table } from './output';

/** A change request as GET /api/change-requests/{id} returns it (the fields the command line reads). */
export interface ChangeRequestView {
  id: string;
  status: 'accepted' | 'applied' | 'rejected' | 'failed' | 'canceled';
  request: { operation?: string; sipAddress?: string; poolFqdn?: string; displayName?: string; replaceLegacyUser?: boolean } | null;
  reason: { code: string; message: string; errors?: Array<{ pointer: string; detail: string }> } | null;
  actor: string;
  acceptedAt: string;
  completedAt: string | null;
  ticket: number | null;
}

/** The body of POST /api/change-requests. */
export type ChangeRequestBody =
  | { operation: 'create'; sipAddress: string; poolFqdn: string; displayName?: string; replaceLegacyUser?: boolean }
  | { operation: 'delete'; sipAddress: string };

/** What a dry run (-WhatIf) answers. */
interface Prediction {
  outcome: 'applied' | 'rejected';
  reason: ChangeRequestView['reason'];
  request: ChangeRequestBody;
}

/** The wait between polls when an answer names no Retry-After, and the most a Retry-After may hold it up. */
const DEFAULT_POLL_MS = 1000;
const MAX_POLL_MS = 30_000;
/** Answers that say "ask again later" while following a request: too many requests, unavailable. */
const TRANSIENT = new Set([429, 503]);

/**
 * Submits a change and, as a cmdlet does, returns when it is done: with `whatIf` the dry run's
 * prediction; with --no-wait the accepted request; otherwise its outcome, polled as Retry-After says.
 */
export async function submitChange(context: Context, body: ChangeRequestBody, whatIf: boolean, names: ParameterNames): Promise<ExitCode> {
  const { api, output } = context;
  if (whatIf) {
    const answer = await api.call('POST', '/change-requests', { dryRun: 'true' }, body);
    if (answer.status !== 200) throw failureOf(answer, names);
    const prediction = answer.body as Prediction;
    show(output, prediction, () => predictionText(prediction));
    return predictionExit(context, prediction, names);
  }
  const answer = await api.call('POST', '/change-requests', {}, body);
  if (answer.status !== 202) throw failureOf(answer, names);
  const accepted = answer.body as ChangeRequestView;
  if (!context.wait) {
    output.out(output.json ? JSON.stringify(accepted, null, 2) : accepted.id);
    return ExitCode.done;
  }
  const settled = await follow(context, accepted, answer);
  show(output, settled, () => changeRequestText(settled));
  return outcomeExit(context, settled, names);
}

/** Polls GET /api/change-requests/{id} until the request is no longer `accepted`, or the timeout (exit 3). */
async function follow(context: Context, accepted: ChangeRequestView, first: Answer): Promise<ChangeRequestView> {
  const { api, output } = context;
  const started = Date.now();
  const deadline = started + context.timeoutMs;
  let current = accepted;
  let last = first;
  while (current.status === 'accepted') {
    const pause = Math.min(retryAfterMs(last.headers) ?? DEFAULT_POLL_MS, MAX_POLL_MS);
    if (Date.now() + pause > deadline) {
      output.progress(undefined);
      throw new CliExit(ExitCode.unavailable, [
        `change request ${current.id} is still accepted after ${Math.round(context.timeoutMs / 1000)} s; follow it with: pchat request get ${current.id}`,
      ]);
    }
    const ticket = current.ticket === null ? '' : `, ticket ${current.ticket}`;
    output.progress(`change request ${current.id}: accepted${ticket}, waiting (${Math.round((Date.now() - started) / 1000)} s)`);
    await new Promise((resolve) => setTimeout(resolve, pause));
    last = await api.call('GET', `/change-requests/${encodeURIComponent(current.id)}`);
    // The request is durable once accepted: a busy or briefly unavailable app is asked again, as its Retry-After says.
    if (TRANSIENT.has(last.status)) continue;
    if (last.status !== 200) {
      output.progress(undefined);
      throw failureOf(last);
    }
    current = last.body as ChangeRequestView;
  }
  output.progress(undefined);
  return current;
}

/** 0 for an applied (or still accepted) request; 1, with its reason code on stderr, for one that was not. */
export function outcomeExit(context: Context, request: ChangeRequestView, names: ParameterNames = {}): ExitCode {
  if (request.status === 'applied' || request.status === 'accepted') return ExitCode.done;
  context.output.err(`pchat: ${request.status}: ${reasonText(request.reason, names)}`);
  return ExitCode.no;
}

function predictionExit(context: Context, prediction: Prediction, names: ParameterNames): ExitCode {
  if (prediction.outcome === 'applied') return ExitCode.done;
  context.output.err(`pchat: what if: would be rejected: ${reasonText(prediction.reason, names)}`);
  return ExitCode.no;
}

function reasonText(reason: ChangeRequestView['reason'], names: ParameterNames = {}): string {
  if (!reason) return '(no reason given)';
  const fields = (reason.errors ?? [])
    .map((error) => `; ${printable(parameterOf(error.pointer, names))}: ${printable(error.detail)}`)
    .join('');
  return `${printable(reason.code)}: ${printable(reason.message)}${fields}`;
}

function predictionText(prediction: Prediction): string {
  const verb = prediction.request.operation === 'create' ? 'create' : 'remove';
  const what = `What if: ${verb} the Persistent Chat endpoint ${printable(prediction.request.sipAddress)}`;
  return prediction.outcome === 'applied'
    ? `${what}: would be applied. Nothing was changed.`
    : `${what}: would be rejected (${printable(prediction.reason?.code)}: ${printable(prediction.reason?.message)}). Nothing was changed.`;
}

/** One change request as a block. */
export function changeRequestText(request: ChangeRequestView): string {
  return block([
    ['Id', request.id],
    ['Status', request.status],
    ['Operation', request.request?.operation],
    ['SipAddress', request.request?.sipAddress],
    ['PersistentChatPoolFqdn', request.request?.poolFqdn],
    ['DisplayName', request.request?.displayName],
    ['Reason', request.reason ? `${request.reason.code}: ${request.reason.message}` : ''],
    ['Actor', request.actor],
    ['AcceptedAt', request.acceptedAt],
    ['CompletedAt', request.completedAt],
  ]);
}

/** `pchat request get <id>`: exits as the request stands (0 applied or still accepted, 1 rejected, failed or canceled). */
export async function getRequest(context: Context, id: string): Promise<ExitCode> {
  const answer = await context.api.call('GET', `/change-requests/${encodeURIComponent(id)}`);
  if (answer.status !== 200) throw failureOf(answer, { id: '<id>' });
  const request = answer.body as ChangeRequestView;
  show(context.output, request, () => changeRequestText(request));
  return outcomeExit(context, request);
}

/** `pchat request list`: one page, newest first; the next page's cursor is printed after the table. */
export async function listRequests(context: Context, query: Query): Promise<ExitCode> {
  const answer = await context.api.call('GET', '/change-requests', query);
  if (answer.status !== 200) throw failureOf(answer, REQUEST_LIST_NAMES);
  const page = answer.body as { items: ChangeRequestView[]; nextCursor: string | null };
  show(context.output, page, () => {
    const rows = table(page.items, [
      ['Id', (r: ChangeRequestView) => r.id],
      ['Status', (r: ChangeRequestView) => r.status],
      ['Operation', (r: ChangeRequestView) => r.request?.operation],
      ['SipAddress', (r: ChangeRequestView) => r.request?.sipAddress],
      ['Reason', (r: ChangeRequestView) => r.reason?.code],
      ['AcceptedAt', (r: ChangeRequestView) => r.acceptedAt],
    ]);
    return page.nextCursor ? `${rows}\nmore: --cursor ${printable(page.nextCursor)}` : rows;
  });
  return ExitCode.done;
}

export const REQUEST_LIST_NAMES: ParameterNames = {
  status: '--status',
  sipAddress: '--sip-address',
  operation: '--operation',
  since: '--since',
  until: '--until',
  limit: '--limit',
  cursor: '--cursor',
};

/** `pchat request cancel <id>`: 0 when it is now canceled; 1 when it had settled already (its status printed) or is unknown. */
export async function cancelRequest(context: Context, id: string): Promise<ExitCode> {
  const answer = await context.api.call('POST', `/change-requests/${encodeURIComponent(id)}/cancel`);
  if (answer.status !== 200) throw failureOf(answer, { id: '<id>' });
  const request = answer.body as ChangeRequestView;
  show(context.output, request, () => changeRequestText(request));
  return ExitCode.done;
}
