import { app } from '@azure/functions';
import { bindHttp } from '../shared/composition/functionBindings';
import { changeDirectoryUserHttp } from '../shared/entrypoints/http/topologyHttp';

/** Adds or removes a directory user that holds a SIP address. */
export const changeDirectoryUser = bindHttp(changeDirectoryUserHttp);

app.http('changeDirectoryUser', {
  methods: ['PUT', 'DELETE'],
  route: 'topology/users/{sipAddress}',
  authLevel: 'anonymous',
  handler: changeDirectoryUser,
});
