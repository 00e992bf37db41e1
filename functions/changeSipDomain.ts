import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { changeSipDomainHttp } from '../shared/entrypoints/directoryHttp';

/** Adds or removes a supported SIP domain. */
export async function changeSipDomain(request: HttpRequest): Promise<HttpResponseInit> {
  return changeSipDomainHttp(request);
}

app.http('changeSipDomain', { methods: ['PUT', 'DELETE'], route: 'topology/sip-domains/{domain}', authLevel: 'anonymous', handler: changeSipDomain });
