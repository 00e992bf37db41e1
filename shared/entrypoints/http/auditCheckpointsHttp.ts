import { z } from 'zod';
import type { ServiceDependencies } from '../../application/dependencies';
import { allCheckpoints, listCheckpoints } from '../../application/audit/listCheckpoints';
import type { AuditCheckpoint } from '../../domain/auditVerification';
import { Role } from '../../domain/principal';
import { EXPORT_MEDIA_TYPES } from './auditExport';
import { httpEntrypoint, type HttpDependencies } from './httpEntrypoint';
import { fromQuery, json, pageLimit, parseInput, queryObject } from './httpInput';

/** Checkpoints per page when the caller names no limit. */
const DEFAULT_PAGE = 100;

/** The query of GET /api/audit/checkpoints (exported for the OpenAPI document). */
export const CheckpointQuerySchema = z
  .strictObject({
    limit: pageLimit(1000).optional(),
    cursor: z.string().min(1).max(1024).optional(),
    /** json (a page, the default), or every checkpoint streamed as ndjson: the checkpoints file of an offline verification. */
    format: z.enum(['json', 'ndjson'], { error: 'must be json or ndjson' }).default('json'),
  })
  .superRefine((query, ctx) => {
    if (query.format === 'json') return;
    // The stream is every checkpoint: paging parameters would silently mean something else.
    if (query.cursor !== undefined)
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'cursor pages the json format; ndjson is every checkpoint' });
    if (query.limit !== undefined)
      ctx.addIssue({ code: 'custom', path: ['limit'], message: 'limit pages the json format; ndjson is every checkpoint' });
  });

/** Each checkpoint as one JSON line, as it comes. */
async function* checkpointLines(checkpoints: AsyncIterable<AuditCheckpoint>): AsyncIterable<Uint8Array> {
  for await (const checkpoint of checkpoints) yield Buffer.from(`${JSON.stringify(checkpoint)}\n`, 'utf8');
}

/**
 * GET /api/audit/checkpoints: the signed checkpoints, newest first, each with whether its event was
 * published and whether the blob witness holds its copy; or, with format=ndjson, all of them.
 */
export const listCheckpointsHttp = httpEntrypoint(
  { roles: [Role.auditor] },
  async (deps: Pick<ServiceDependencies, 'auditLog' | 'clock'> & HttpDependencies, request) => {
    const { format, limit, cursor } = parseInput(CheckpointQuerySchema, queryObject(request), 'query');
    if (format === 'json') return json(200, await fromQuery(listCheckpoints(deps, { limit: limit ?? DEFAULT_PAGE, cursor })));
    const filename = `checkpoints-${deps.clock.now().toISOString().replace(/[:.]/g, '-')}.ndjson`;
    return {
      status: 200,
      headers: { 'content-type': EXPORT_MEDIA_TYPES.ndjson, 'content-disposition': `attachment; filename="${filename}"` },
      body: checkpointLines(allCheckpoints(deps)),
    };
  },
);
