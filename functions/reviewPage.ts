import { app, type HttpResponseInit } from '@azure/functions';
import { reviewPage as page } from '../shared/entrypoints/http/reviewPage';

/** The auditors' review page (filters, correlation chains, change-request outcomes, the verifier). */
export async function reviewPage(): Promise<HttpResponseInit> {
  return page();
}

app.http('reviewPage', { methods: ['GET'], route: 'review', authLevel: 'anonymous', handler: reviewPage });
