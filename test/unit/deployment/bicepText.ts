/**
 * Just enough reading of Bicep text for the deployment tests: no Bicep compiler runs on this
 * machine, so the tests read the files the way a reviewer does, by their declarations. These
 * helpers understand the small, plain subset infra/ is written in (string literals with `${}`
 * interpolation, dotted references, `var`, `param`, `output`, `module`, `resource` blocks) and
 * answer `undefined` for anything else, which the checks report rather than guess at.
 */

/** The text with `//` and `/* *\/` comments blanked (same length, so offsets still match), strings kept. */
export function withoutComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === "'") {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += char;
      i += 1;
    }
  }
  return out;
}

/** The index just past the string literal that opens at `start` (a `'`), `\'` escapes and `${…}` holes included. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text.startsWith('${', i)) i = closingIndex(text, i + 1) + 1;
    else if (text[i] === "'") return i + 1;
    else i += 1;
  }
  return text.length;
}

/** The index of the bracket closing the one at `open` (`{`, `[` or `(`), skipping strings. */
function closingIndex(text: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const char = text[i];
    if (char === "'") {
      i = stringEnd(text, i);
      continue;
    }
    if (char === '{' || char === '[' || char === '(') depth += 1;
    if (char === '}' || char === ']' || char === ')') {
      depth -= 1;
      if (depth === 0) return i;
    }
    i += 1;
  }
  return text.length - 1;
}

/** The bracketed block (`{…}` or `[…]`) that starts at the first `{` or `[` at or after `from`. */
export function blockFrom(text: string, from: number): string | undefined {
  const open = text.slice(from).search(/[{[]/);
  if (open === -1) return undefined;
  const start = from + open;
  return text.slice(start, closingIndex(text, start) + 1);
}

/** The block of the declaration whose header matches `header` (e.g. /^var appSettings =/m). */
export function declarationBlock(text: string, header: RegExp): string | undefined {
  const match = header.exec(text);
  return match ? blockFrom(text, match.index + match[0].length) : undefined;
}

/** The `key: value` entries at the top level of a multi-line `{…}` block, each value as written (its line, or its whole block). */
export function topLevelEntries(block: string): Map<string, string> {
  const entries = new Map<string, string>();
  let depth = 0;
  let i = 0;
  while (i < block.length) {
    const char = block[i]!;
    if (char === "'") {
      i = stringEnd(block, i);
      continue;
    }
    if ('{[('.includes(char)) depth += 1;
    else if ('}])'.includes(char)) depth -= 1;
    const entry = depth === 1 && (char === '\n' || i === 0) ? /^[ \t]*([A-Za-z_$][\w$]*|'[^']*'):[ \t]*/.exec(block.slice(i + 1)) : null;
    if (entry) {
      const valueStart = i + 1 + entry[0].length;
      const nested = /[{[]/.test(block[valueStart] ?? '') ? blockFrom(block, valueStart) : undefined;
      const value = nested ?? block.slice(valueStart).split('\n')[0]!;
      entries.set(entry[1]!.replace(/^'|'$/g, ''), value.trim());
      // A nested block is skipped whole, so the depth stays that of this block.
      i = nested ? valueStart + nested.length : valueStart;
      continue;
    }
    i += 1;
  }
  return entries;
}

/** The string literals of a file's code (comments excluded), as written between the quotes. */
export function stringLiterals(text: string): string[] {
  const code = withoutComments(text);
  const literals: string[] = [];
  let i = 0;
  while (i < code.length) {
    if (code[i] === "'") {
      const end = stringEnd(code, i);
      literals.push(code.slice(i + 1, end - 1));
      i = end;
    } else i += 1;
  }
  return literals;
}

/** A value an expression evaluates to, and whether it came (wholly or partly) from names.json. */
export interface Evaluated {
  value: unknown;
  fromNames: boolean;
}

/**
 * Evaluates the expressions infra/ uses for names: string literals with `${}` holes, dotted
 * references into `names` (loadJsonContent of shared/names.json), `var` aliases of such
 * references, `string(x)`, and arrays of these. Anything else is `undefined`.
 */
export function evaluate(expression: string, names: unknown, fileText: string, depth = 0): Evaluated | undefined {
  const expr = expression.trim();
  if (depth > 8) return undefined;
  if (/^'.*'$/s.test(expr) && stringEnd(expr, 0) === expr.length) return evaluateString(expr.slice(1, -1), names, fileText, depth);
  if (/^\d+$/.test(expr)) return { value: Number(expr), fromNames: false };
  if (expr === 'true' || expr === 'false') return { value: expr === 'true', fromNames: false };
  const stringCall = /^string\((.*)\)$/s.exec(expr);
  if (stringCall) {
    const inner = evaluate(stringCall[1]!, names, fileText, depth + 1);
    return inner && { value: String(inner.value), fromNames: inner.fromNames };
  }
  if (/^\[.*\]$/s.test(expr)) {
    const items = expr
      .slice(1, -1)
      .split(/\n|,/)
      .map((item) => item.trim())
      .filter(Boolean)
      .map((item) => evaluate(item, names, fileText, depth + 1));
    if (items.some((item) => item === undefined)) return undefined;
    return { value: items.map((item) => item!.value), fromNames: items.every((item) => item!.fromNames) };
  }
  const path = /^([A-Za-z_]\w*)((?:\.[A-Za-z_$][\w$]*)*)$/.exec(expr);
  if (!path) return undefined;
  const [, head, rest] = path;
  const keys = rest ? rest.slice(1).split('.') : [];
  if (head === 'names') return lookup(names, keys);
  const alias = new RegExp(`^var ${head} = (.+)$`, 'm').exec(withoutComments(fileText));
  if (!alias) return undefined;
  const base = evaluate(alias[1]!, names, fileText, depth + 1);
  if (!base) return undefined;
  const value = lookup(base.value, keys);
  return value && { value: value.value, fromNames: base.fromNames };
}

function evaluateString(body: string, names: unknown, fileText: string, depth: number): Evaluated | undefined {
  let value = '';
  let fromNames = false;
  let i = 0;
  while (i < body.length) {
    if (body.startsWith('${', i)) {
      const close = closingIndex(body, i + 1);
      const inner = evaluate(body.slice(i + 2, close), names, fileText, depth + 1);
      if (!inner) return undefined;
      value += String(inner.value);
      fromNames ||= inner.fromNames;
      i = close + 1;
    } else if (body[i] === '\\') {
      value += body[i + 1] ?? '';
      i += 2;
    } else {
      value += body[i];
      i += 1;
    }
  }
  return { value, fromNames };
}

function lookup(root: unknown, keys: readonly string[]): Evaluated | undefined {
  let value = root;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return { value, fromNames: true };
}
