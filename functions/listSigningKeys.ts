import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { signingKeysHttp } from '../shared/entrypoints/http/signingKeysHttp';

/** The public keys (a JWK set) that verify the audit log's signed checkpoints. */
export const listSigningKeys = bindHttp(signingKeysHttp);

app.http('listSigningKeys', { methods: ['GET'], route: 'audit/signing-keys', authLevel: 'anonymous', handler: listSigningKeys });
