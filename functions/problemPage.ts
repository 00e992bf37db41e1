import { app } from '@azure/functions';
import { bindPublicHttp } from '../shared/composition/functionBindings';
import { problemPageHttp } from '../shared/entrypoints/http/problemPage';

/** The page a problem document's `type` URI names: what the code means and what to do (anonymous). */
export const problemPage = bindPublicHttp(problemPageHttp);

app.http('problemPage', { methods: ['GET'], route: 'problems/{code}', authLevel: 'anonymous', handler: problemPage });
