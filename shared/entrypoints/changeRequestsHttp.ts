import { z } from 'zod';
import { ChangeRequestBodySchema } from '../domain/changeRequest';
import { NotFoundError, ValidationError } from '../domain/errors';
import { predictChangeRequest, submitChangeRequest } from '../application/changeRequests';
import { actorOf, correlationIdOf, handleHttp, json, parseInput, queryObject, readJsonBody, type HttpInput } from './http';
import type { HttpOutput } from './problems';

const SubmitQuerySchema = z.strictObject({
  dryRun: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

/** Visible ASCII, as in the IETF Idempotency-Key draft; a structured-field string's quotes are dropped. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, if any: 1-255 visible ASCII characters, optionally as a quoted string. */
function idempotencyKeyOf(request: HttpInput): string | undefined {
  const raw = request.headers.get('idempotency-key')?.trim();
  if (raw === undefined) return undefined;
  const key = /^".*"$/.test(raw) ? raw.slice(1, -1) : raw;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError('validation_failed', 'Idempotency-Key is invalid', {
      errors: [{ pointer: '#/idempotency-key', detail: 'Idempotency-Key must be 1-255 visible ASCII characters (no spaces)', location: 'header' }],
    });
  }
  return key;
}

const ChangeRequestParamsSchema = z.object({ id: z.uuid({ error: 'must be a change request id (a UUID)' }) });

/**
 * POST /api/change-requests: 202 + Location for a queued request, or 200 with the prediction for
 * `?dryRun=true`. With Idempotency-Key, a retry gets the original 202 again (Idempotent-Replayed: true).
 */
export function submitChangeRequestHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const { dryRun } = parseInput(SubmitQuerySchema, queryObject(request), 'query');
    const idempotencyKey = idempotencyKeyOf(request);
    const body = parseInput(ChangeRequestBodySchema, await readJsonBody(request), 'body');
    if (dryRun === 'true') {
      const prediction = await predictChangeRequest(deps, body);
      return json(200, { dryRun: true, request: body, ...prediction });
    }
    const { changeRequest, replayed } = await submitChangeRequest(deps, { request: body, actor: actorOf(request), correlationId: correlationIdOf(request), idempotencyKey });
    const headers: Record<string, string> = { location: `/api/change-requests/${changeRequest.id}`, 'retry-after': '1' };
    if (replayed) headers['idempotent-replayed'] = 'true';
    return json(202, changeRequest, headers);
  });
}

/** GET /api/change-requests/{id}: the request and its status. */
export function getChangeRequestHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const { id } = parseInput(ChangeRequestParamsSchema, request.params, 'path');
    const found = await deps.store.getChangeRequest(id);
    if (!found) throw new NotFoundError('change_request_not_found', `no change request has the id ${id}`);
    return json(200, found);
  });
}
