import type { ZodError } from 'zod';
import type { FieldError } from '../domain/errors';
import { toWellFormed } from '../domain/text';

/**
 * Field names come from the input, so a hostile one could be 60 KiB long or hold a lone surrogate;
 * errors are stored (an invalid queue message's record and audit) and echoed, so each name is
 * clipped and made well-formed, and at most MAX_ERRORS are listed.
 */
const MAX_NAME_CHARACTERS = 64;
const MAX_ERRORS = 20;

function clippedName(name: string): string {
  const wellFormed = toWellFormed(name);
  return wellFormed.length > MAX_NAME_CHARACTERS ? `${wellFormed.slice(0, MAX_NAME_CHARACTERS)}…` : wellFormed;
}

const pointerTo = (path: string[]) => `#${path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')}`;

/** Turns zod issues into field errors whose JSON pointer names the offending field, one per unknown field. */
export function fieldErrors(error: ZodError, location: FieldError['location']): FieldError[] {
  const errors = error.issues.flatMap((issue) => {
    const path = issue.path.map((segment) => clippedName(String(segment)));
    // One error per unknown field, so a client keyed on pointers sees each of them.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map(clippedName).map((key) => ({
        pointer: pointerTo([...path, key]),
        detail: `unknown field "${key}": not part of the contract`,
        location,
      }));
    }
    const field = path.length ? path.join('.') : 'the value';
    return [{ pointer: pointerTo(path), detail: `${field} ${issue.message.replace(/^Invalid input: /, '')}`, location }];
  });
  if (errors.length <= MAX_ERRORS) return errors;
  const more = errors.length - MAX_ERRORS + 1;
  return [...errors.slice(0, MAX_ERRORS - 1), { pointer: '#', detail: `and ${more} more errors`, location }];
}
