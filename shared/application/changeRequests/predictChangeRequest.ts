import type { ChangeRequestBody, ChangeRequestReason } from '../../domain/changeRequest';
import type { ServiceDependencies } from '../dependencies';
import { decideRequest, reasonOf, readsForRequest } from './settlement';

/** What predicting needs. */
export type PredictDependencies = Pick<ServiceDependencies, 'directory' | 'clock'>;

/** What a dry run predicts: the outcome the request would have if applied now. */
export interface Prediction {
  outcome: 'applied' | 'rejected';
  reason: ChangeRequestReason | null;
  before: unknown;
  after: unknown;
}

/** Predicts a request's outcome against the current directory (the -WhatIf of the cmdlets); writes nothing. */
export async function predictChangeRequest(deps: PredictDependencies, request: ChangeRequestBody): Promise<Prediction> {
  const snapshot = await deps.directory.snapshot(readsForRequest(request));
  const decision = decideRequest(request, snapshot, deps.clock.now().toISOString(), null);
  switch (decision.outcome) {
    case 'rejected': {
      const holder = snapshot.holders.get(request.sipAddress) ?? null;
      return { outcome: 'rejected', reason: reasonOf(decision), before: holder, after: holder };
    }
    case 'unchanged':
      return { outcome: 'applied', reason: null, before: decision.current, after: decision.current };
    case 'applied':
      return { outcome: 'applied', reason: null, before: decision.before, after: decision.after };
  }
}
