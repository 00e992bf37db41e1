import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { changeDirectoryUserHttp } from '../shared/entrypoints/directoryHttp';

/** Adds or removes a directory user that holds a SIP address. */
export async function changeDirectoryUser(request: HttpRequest): Promise<HttpResponseInit> {
  return changeDirectoryUserHttp(request);
}

app.http('changeDirectoryUser', { methods: ['PUT', 'DELETE'], route: 'topology/users/{sipAddress}', authLevel: 'anonymous', handler: changeDirectoryUser });
