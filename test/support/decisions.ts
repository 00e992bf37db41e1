import assert from 'node:assert/strict';
import type { Applied, Decision } from '../../shared/domain/decision';

/** The rule a decision refused with, or a failed assertion when it was not a refusal. */
export function rejectionOf(decision: Decision): { code: string; pointer: string } {
  if (decision.outcome !== 'rejected') assert.fail(`expected a rejection, got ${JSON.stringify(decision)}`);
  return { code: decision.code, pointer: decision.pointer };
}

/** The applied decision, or a failed assertion when it was not applied. */
export function appliedOf(decision: Decision): Applied {
  if (decision.outcome !== 'applied') assert.fail(`expected applied, got ${JSON.stringify(decision)}`);
  return decision;
}
