/**
 * The cmdlets as administrators type them: `New-CsPersistentChatEndpoint -SipAddress ... -WhatIf`.
 * PowerShell matches cmdlet and parameter names case-insensitively and writes parameters with one
 * dash; commander (like every POSIX-style parser) takes `--long` options and matches them exactly.
 * This normaliser rewrites the argument list before commander sees it, so parsing, required
 * parameters and usage errors stay commander's.
 */

/** One cmdlet: its canonical name and its parameters (canonical spelling, and whether each takes a value). */
export interface CmdletSpec {
  name: string;
  parameters: Record<string, { takesValue: boolean }>;
}

export const CMDLETS: CmdletSpec[] = [
  {
    name: 'New-CsPersistentChatEndpoint',
    parameters: {
      SipAddress: { takesValue: true },
      PersistentChatPoolFqdn: { takesValue: true },
      DisplayName: { takesValue: true },
      WhatIf: { takesValue: false },
    },
  },
  {
    name: 'Get-CsPersistentChatEndpoint',
    parameters: {
      Identity: { takesValue: true },
      PersistentChatPoolFqdn: { takesValue: true },
      Filter: { takesValue: true },
      ResultSize: { takesValue: true },
    },
  },
  {
    name: 'Remove-CsPersistentChatEndpoint',
    parameters: {
      Identity: { takesValue: true },
      WhatIf: { takesValue: false },
    },
  },
];

/** `-Name`, `-name`, `-Name:value` (PowerShell's way of binding a value to a switch or parameter). */
const SINGLE_DASH_NAME = /^-([A-Za-z][A-Za-z0-9]+)(?::(.*))?$/s;

/** The cmdlet `word` names, compared case-insensitively, or undefined. */
export function cmdletNamed(word: string): CmdletSpec | undefined {
  const lower = word.toLowerCase();
  return CMDLETS.find((cmdlet) => cmdlet.name.toLowerCase() === lower);
}

/**
 * Rewrites the argument list: a cmdlet name in any case becomes its canonical name, and each of
 * its single-dash parameters, in any case, becomes the `--Canonical` option commander declares.
 * A token that is the value of the previous parameter is left alone, so `-DisplayName -x` keeps
 * `-x` as the name. An unknown single-dash name is left for commander to refuse (exit 2).
 */
export function normaliseArguments(args: readonly string[]): string[] {
  const at = args.findIndex((arg) => cmdletNamed(arg) !== undefined);
  if (at < 0) return [...args];
  const cmdlet = cmdletNamed(args[at] ?? '') as CmdletSpec;
  const out = [...args.slice(0, at), cmdlet.name];
  let expectingValue = false;
  for (const arg of args.slice(at + 1)) {
    if (expectingValue) {
      out.push(arg);
      expectingValue = false;
      continue;
    }
    const match = SINGLE_DASH_NAME.exec(arg);
    const canonical = match ? parameterNamed(cmdlet, match[1] ?? '') : undefined;
    if (!match || canonical === undefined) {
      out.push(arg);
      continue;
    }
    const inlineValue = match[2];
    const { takesValue } = cmdlet.parameters[canonical] ?? { takesValue: false };
    if (inlineValue === undefined) {
      out.push(`--${canonical}`);
      expectingValue = takesValue;
    } else if (takesValue) {
      out.push(`--${canonical}=${inlineValue}`);
    } else {
      // -WhatIf:$true / -WhatIf:$false, as PowerShell binds a switch explicitly.
      if (/^\$?true$/i.test(inlineValue)) out.push(`--${canonical}`);
      else if (!/^\$?false$/i.test(inlineValue)) out.push(arg);
    }
  }
  return out;
}

function parameterNamed(cmdlet: CmdletSpec, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(cmdlet.parameters).find((parameter) => parameter.toLowerCase() === lower);
}

/** Usage and error text for a cmdlet shows its parameters as PowerShell writes them: `-SipAddress`, not `--SipAddress`. */
export function asPowerShellText(text: string): string {
  return text.replace(/--([A-Z][A-Za-z0-9]*)/g, '-$1');
}
