import { z } from 'zod';
import { hasControlCharacter, isWellFormed } from './text';

/**
 * Who calls the service and what they may do. The roles are the product's ("Who may do what" in the
 * handbook); where a principal comes from (a key, App Service authentication) is the HTTP edge's
 * business, what it may do is decided from these roles alone.
 */

/** The four roles. */
export const Role = {
  /** Submits and dry-runs change requests; reads its own. */
  submitter: 'submitter',
  /** Changes the topology; reads any change request. */
  operator: 'operator',
  /** Reads the audit log, exports and verifies it; reads any change request. */
  auditor: 'auditor',
  /** Reads endpoints and topology (every role may). */
  reader: 'reader',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Every role, in a stable order. */
export const ROLES: readonly Role[] = Object.values(Role);

/** An authenticated caller: the name every record it causes carries as its actor, and its roles. */
export interface Principal {
  name: string;
  roles: ReadonlySet<Role>;
}

/** The longest principal name: it becomes an actor, which is stored, indexed and shown. */
export const MAX_PRINCIPAL_NAME_LENGTH = 256;

/**
 * Why a string cannot be a principal name, or undefined when it can: 1-256 characters of
 * well-formed Unicode with no control characters. The same bounds hold for configured keys and for
 * names App Service authentication hands over, so no identity can break what stores an actor.
 */
export function principalNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_PRINCIPAL_NAME_LENGTH) return `must be at most ${MAX_PRINCIPAL_NAME_LENGTH} characters`;
  if (!isWellFormed(name)) return 'must be well-formed Unicode (no lone surrogates)';
  if (hasControlCharacter(name)) return 'must not contain control characters or line separators';
  return undefined;
}

/** A principal name, checked by principalNameProblem. */
export const PrincipalNameSchema = z.string({ error: 'must be a string' }).superRefine((name, ctx) => {
  const problem = principalNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Whether the principal holds at least one of `roles`. */
export function holdsAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return roles.some((role) => principal.roles.has(role));
}
