import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { changeSipDomainHttp } from '../shared/entrypoints/http/topologyHttp';

/** Adds or removes a supported SIP domain. */
export const changeSipDomain = bindHttp(changeSipDomainHttp);

app.http('changeSipDomain', {
  methods: ['PUT', 'DELETE'],
  route: 'topology/sip-domains/{domain}',
  authLevel: 'anonymous',
  handler: changeSipDomain,
});
