import { ErrorCode, ValidationError } from '../../domain/errors';

/**
 * Page cursors: the row key a page ended at, opaque to callers (base64url JSON). A cursor is only
 * accepted back for the listing that issued it, which its key prefix tells.
 */

/** The cursor of a page that ended at `rowKey`. */
export function encodeCursor(rowKey: string): string {
  return Buffer.from(JSON.stringify({ after: rowKey })).toString('base64url');
}

/** The row key a cursor continues after; ValidationError (on `#/cursor`) for one this listing did not issue. */
export function decodeCursor(cursor: string | undefined, prefix: string): string | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    key = undefined;
  }
  if (typeof key !== 'string' || !key.startsWith(prefix)) {
    throw new ValidationError(ErrorCode.validationFailed, 'the cursor is not one this service issued', {
      errors: [{ pointer: '#/cursor', detail: 'must be a cursor returned by a previous page' }],
    });
  }
  return key;
}
