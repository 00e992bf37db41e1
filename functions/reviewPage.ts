import { app } from '@azure/functions';
import { correlated } from '../shared/entrypoints/http/correlation';
import { reviewPage as page } from '../shared/entrypoints/http/reviewPage';

/** The auditors' review page (filters, correlation chains, change-request outcomes, the verifier). */
export const reviewPage = correlated(() => Promise.resolve(page()));

app.http('reviewPage', { methods: ['GET'], route: 'review', authLevel: 'anonymous', handler: reviewPage });
