import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { listCheckpointsHttp } from '../shared/entrypoints/http/auditCheckpointsHttp';

/** Lists the signed audit checkpoints with their witnesses' status, or streams all of them (format=ndjson). */
export const listAuditCheckpoints = bindHttp(listCheckpointsHttp);

app.http('listAuditCheckpoints', { methods: ['GET'], route: 'audit/checkpoints', authLevel: 'anonymous', handler: listAuditCheckpoints });
