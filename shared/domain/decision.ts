import type { AuditAction } from './audit';
import type { RejectionCode, TopologyCode } from './codes';
import type { DirectoryWrite } from './directory';

/**
 * What the rules decide about a change: the writes that apply it, the rule that refuses it, or that
 * nothing needs doing. Decisions are pure values over a directory view; the application commits them.
 */

/** The change a request makes, ready to commit with its audit record. */
export interface Applied {
  outcome: 'applied';
  action: AuditAction;
  subject: string;
  writes: DirectoryWrite[];
  before: unknown;
  after: unknown;
}

/** The rule a request breaks, by its stable code. */
export interface Rejected<Code extends RejectionCode | TopologyCode = RejectionCode | TopologyCode> {
  outcome: 'rejected';
  code: Code;
  message: string;
  /** The request field the rule is about, as a JSON pointer. */
  pointer: string;
}

/** Nothing to do: the directory already is as requested (an idempotent PUT). */
export interface Unchanged {
  outcome: 'unchanged';
  current: unknown;
}

/** One of the three; endpoint rules refuse with RejectionCodes, topology rules with TopologyCodes. */
export type Decision<Code extends RejectionCode | TopologyCode = RejectionCode | TopologyCode> = Applied | Rejected<Code> | Unchanged;

/** A refusal by the rule `code`, about the field at `pointer`. */
export function reject<Code extends RejectionCode | TopologyCode>(code: Code, pointer: string, message: string): Rejected<Code> {
  return { outcome: 'rejected', code, message, pointer };
}
