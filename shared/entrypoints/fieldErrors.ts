import type { ZodError } from 'zod';
import type { FieldError } from '../domain/errors';

/** Turns zod issues into field errors whose JSON pointer names the offending field, one per unknown field. */
export function fieldErrors(error: ZodError, location: FieldError['location']): FieldError[] {
  const pointerTo = (path: string[]) => `#${path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')}`;
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    // One error per unknown field, so a client keyed on pointers sees each of them.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        pointer: pointerTo([...path, key]),
        detail: `unknown field "${key}": not part of the contract`,
        location,
      }));
    }
    const field = path.length ? path.join('.') : 'the value';
    return [{ pointer: pointerTo(path), detail: `${field} ${issue.message.replace(/^Invalid input: /, '')}`, location }];
  });
}
