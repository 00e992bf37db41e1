import type { ValidChangeRequest } from '../../domain/changeRequest';
import type { ServiceDependencies } from '../dependencies';
import { nextRedriveAt } from '../deliveryPolicy';
import type { Admission, AdmissionOptions } from '../ports/admissions';
import { retryWhileContended } from '../retry';

/** What admitting needs. */
export type AdmissionDependencies = Pick<ServiceDependencies, 'admissions' | 'mutex' | 'delivery'>;

/** The admission options for a request accepted at `now`: its first re-drive time, and its Idempotency-Key if any. */
export function admissionOptions(
  deps: Pick<ServiceDependencies, 'delivery'>,
  now: Date,
  idempotency?: AdmissionOptions['idempotency'],
): AdmissionOptions {
  return { now, redriveAt: nextRedriveAt(deps.delivery, now, 1), ...(idempotency ? { idempotency } : {}) };
}

/**
 * Admits a request into its address's waiting list, trying again while other admissions of the
 * address win the ticket race. Admissions of one address take turns within this process first.
 */
export function admit(deps: AdmissionDependencies, request: ValidChangeRequest, options: AdmissionOptions): Promise<Admission> {
  return deps.mutex.runExclusive(`admission:${request.request.sipAddress}`, () =>
    retryWhileContended(() => deps.admissions.admit(request, options)),
  );
}
