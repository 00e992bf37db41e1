import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { changePoolHttp } from '../shared/entrypoints/directoryHttp';

/** Registers or retires a Persistent Chat pool. */
export async function changePool(request: HttpRequest): Promise<HttpResponseInit> {
  return changePoolHttp(request);
}

app.http('changePool', { methods: ['PUT', 'DELETE'], route: 'topology/pools/{fqdn}', authLevel: 'anonymous', handler: changePool });
