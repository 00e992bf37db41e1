/**
 * Rules for free text that crosses a trust boundary (queue envelopes, display names). Text with a
 * lone UTF-16 surrogate cannot be encoded as UTF-8 or as a URI component, so it would fail later,
 * far from the input that carried it: it is refused where it enters.
 */

/** Whether `value` is well-formed Unicode: no lone UTF-16 surrogate (String.prototype.isWellFormed, Node 20+). */
export function isWellFormed(value: string): boolean {
  // ES2024's String.prototype.isWellFormed; the project's lib is ES2022, so its type is stated here.
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** `value` with each lone surrogate replaced by U+FFFD (String.prototype.toWellFormed, Node 20+): safe to encode. */
export function toWellFormed(value: string): string {
  return (value as string & { toWellFormed(): string }).toWellFormed();
}

/**
 * Whether `value` holds a control character (Unicode category Cc) or a line or paragraph separator
 * (U+2028, U+2029): text that would break a line of a log, a CSV row or a multipart body where a
 * name is expected (Azurite's batch parser cuts an entity at U+2028, which is how this was found).
 */
export function hasControlCharacter(value: string): boolean {
  return /[\p{Cc}\u2028\u2029]/u.test(value);
}

/** A correlation id: the same rule as the HTTP X-Correlation-Id header, so any id is safe in a key and a log line. */
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
