import { z } from 'zod';

/**
 * Names in the Lync directory: SIP addresses and fully qualified domain names.
 *
 * A SIP address here is the RFC 3261 `sip:` URI of the shape `sip:user@host`: no password, port,
 * URI parameters or headers, because a Persistent Chat endpoint's SipAddress is exactly that shape.
 * The scheme and the whole address are case-insensitive and normalized to lower case.
 *
 * One address has one spelling: RFC 3261 §19.1.4 makes a user-part character outside the reserved
 * set equal to its %HEX HEX escape, so `sip:ocs%63hat@contoso.com` is `sip:ocschat@contoso.com`.
 * SipAddressSchema yields the canonical form (see canonicalEscapes), and every comparison, row key
 * and index uses what it yields: no other code needs to know about escapes.
 */

const MAX_SIP_ADDRESS_LENGTH = 256;
const MAX_FQDN_LENGTH = 253;

// RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved )
//   unreserved = alphanum / "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
//   escaped = "%" HEXDIG HEXDIG; user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
const SIP_USER = /^(?:[a-z0-9\-_.!~*'()&=+$,;?/]|%[0-9a-f]{2})+$/;
// RFC 3261 hostname: *( domainlabel "." ) toplabel; a toplabel starts with a letter.
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LABEL = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

// RFC 3261 §25.1 unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")".
const UNRESERVED = /^[a-z0-9\-_.!~*'()]$/i;
const ESCAPE = /%([0-9a-f]{2})/gi;

/**
 * The canonical spelling of the escapes in a SIP address: an escaped unreserved character is
 * decoded (then lower-cased, as the whole address is), any other escape kept with upper-case hex
 * (`%2f` → `%2F`, `%c3%a9` → `%C3%A9`). One pass, so `%2563` stays `%2563` (a literal "%63").
 * Total: text that is not an address passes through with only its escapes rewritten.
 */
export function canonicalEscapes(value: string): string {
  return value.replace(ESCAPE, (_escape, hex: string) => {
    const character = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(character) ? character.toLowerCase() : `%${hex.toUpperCase()}`;
  });
}

/**
 * The canonical form of free text that may name a SIP address (an audit subject, a query): trimmed,
 * lower-cased and canonically escaped when it starts with `sip:`, otherwise unchanged. It does not
 * validate: for a valid address it equals what SipAddressSchema yields.
 */
export function canonicalSipText(value: string): string {
  const lower = value.trim().toLowerCase();
  return lower.startsWith('sip:') ? canonicalEscapes(lower) : value;
}

/** Why a string is not a fully qualified domain name, or undefined when it is one. */
export function fqdnProblem(value: string): string | undefined {
  if (value.length > MAX_FQDN_LENGTH) return `must be at most ${MAX_FQDN_LENGTH} characters`;
  const labels = value.split('.');
  if (labels.length < 2) return 'must have at least two labels (host.domain)';
  const top = labels[labels.length - 1] ?? '';
  if (!labels.slice(0, -1).every((label) => DOMAIN_LABEL.test(label)) || !TOP_LABEL.test(top)) {
    return 'must be a DNS name: labels of 1-63 letters, digits or inner hyphens, the last starting with a letter';
  }
  return undefined;
}

/** Why a lower-cased string is not a `sip:user@host` address, or undefined when it is one. */
export function sipAddressProblem(value: string): string | undefined {
  if (value.length > MAX_SIP_ADDRESS_LENGTH) return `must be at most ${MAX_SIP_ADDRESS_LENGTH} characters`;
  if (!value.startsWith('sip:')) return 'must start with the sip: scheme (sip:user@host)';
  const rest = value.slice(4);
  const at = rest.lastIndexOf('@');
  if (at <= 0) return 'must name a user before @ (sip:user@host)';
  if (rest.indexOf('@') !== at) return 'must contain exactly one @ (RFC 3261 user part)';
  const user = rest.slice(0, at);
  const host = rest.slice(at + 1);
  if (user.includes(':')) return 'must not carry a password (sip:user@host)';
  if (!SIP_USER.test(user)) return 'user part has a character RFC 3261 does not allow unescaped';
  if (/[:;?]/.test(host)) return 'must not carry a port, URI parameters or headers (sip:user@host)';
  const hostProblem = fqdnProblem(host);
  return hostProblem === undefined ? undefined : `host ${hostProblem}`;
}

/** A SIP address `sip:user@host` in its one canonical form: lower case, escapes canonical (canonicalEscapes). */
export const SipAddressSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .toLowerCase()
  .superRefine((value, ctx) => {
    const problem = sipAddressProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `SIP address ${problem}` });
  })
  // Only the user part can hold escapes (the host is a DNS name), so the whole address is rewritten.
  .transform(canonicalEscapes)
  .brand<'SipAddress'>()
  // For the OpenAPI document: the rules above run in code only.
  .meta({
    description: 'A SIP address sip:user@host, at most 256 characters, compared in lower case',
    examples: ['sip:persistentchat@contoso.com'],
  });
export type SipAddress = z.infer<typeof SipAddressSchema>;

/** A fully qualified domain name, normalized to lower case (a pool FQDN or a SIP domain). */
export const FqdnSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .toLowerCase()
  .superRefine((value, ctx) => {
    const problem = fqdnProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `FQDN ${problem}` });
  })
  .brand<'Fqdn'>()
  .meta({ description: 'A fully qualified domain name, at most 253 characters, compared in lower case', examples: ['pcpool.contoso.com'] });
export type Fqdn = z.infer<typeof FqdnSchema>;

/** The SIP domain (host part) of a SIP address. */
export function domainOf(sipAddress: SipAddress): Fqdn {
  return sipAddress.slice(sipAddress.lastIndexOf('@') + 1) as Fqdn;
}

/** The user part of a SIP address. */
export function userOf(sipAddress: SipAddress): string {
  return sipAddress.slice(4, sipAddress.lastIndexOf('@'));
}
