import { z } from 'zod';
import { ChangeRequestBodySchema } from '../domain/changeRequest';
import { NotFoundError } from '../domain/errors';
import { predictChangeRequest, submitChangeRequest } from '../application/changeRequests';
import { actorOf, correlationIdOf, handleHttp, json, parseInput, queryObject, readJsonBody, type HttpInput } from './http';
import type { HttpOutput } from './problems';

const SubmitQuerySchema = z.strictObject({
  dryRun: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

const ChangeRequestParamsSchema = z.object({ id: z.uuid({ error: 'must be a change request id (a UUID)' }) });

/** POST /api/change-requests: 202 + Location for a queued request, or 200 with the prediction for `?dryRun=true`. */
export function submitChangeRequestHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const { dryRun } = parseInput(SubmitQuerySchema, queryObject(request), 'query');
    const body = parseInput(ChangeRequestBodySchema, await readJsonBody(request), 'body');
    if (dryRun === 'true') {
      const prediction = await predictChangeRequest(deps, body);
      return json(200, { dryRun: true, request: body, ...prediction });
    }
    const accepted = await submitChangeRequest(deps, { request: body, actor: actorOf(request), correlationId: correlationIdOf(request) });
    const location = `/api/change-requests/${accepted.id}`;
    return json(202, accepted, { location, 'retry-after': '1' });
  });
}

/** GET /api/change-requests/{id}: the request and its status. */
export function getChangeRequestHttp(request: HttpInput): Promise<HttpOutput> {
  return handleHttp(request, async (deps) => {
    const { id } = parseInput(ChangeRequestParamsSchema, request.params, 'path');
    const found = await deps.store.getChangeRequest(id);
    if (!found) throw new NotFoundError(`no change request has the id ${id}`, 'change_request_not_found');
    return json(200, found);
  });
}
