import { failureOf, type ParameterNames } from './api';
import { submitChange } from './changes';
import type { Context } from './context';
import { ExitCode, usage } from './exit';
import { block, show, table } from './output';

/** An endpoint as GET /api/endpoints returns it. */
interface EndpointView {
  sipAddress: string;
  poolFqdn: string;
  displayName: string | null;
  isDefault: boolean;
  createdAt: string;
}

/** The parameter names of one spelling of the commands: the cmdlets' or the kebab-case flags. */
export interface Spelling {
  sipAddress: string;
  pool: string;
  displayName: string;
  identity: string;
  filter: string;
  resultSize: string;
  /** Field errors from the API, mapped to these names. */
  names: ParameterNames;
}

export const CMDLET_SPELLING: Spelling = spelling({
  sipAddress: '-SipAddress',
  pool: '-PersistentChatPoolFqdn',
  displayName: '-DisplayName',
  identity: '-Identity',
  filter: '-Filter',
  resultSize: '-ResultSize',
});

export const KEBAB_SPELLING: Spelling = spelling({
  sipAddress: '--sip-address',
  pool: '--pool',
  displayName: '--display-name',
  identity: '--identity',
  filter: '--filter',
  resultSize: '--result-size',
});

function spelling(names: Omit<Spelling, 'names'>): Spelling {
  return {
    ...names,
    names: {
      sipAddress: names.sipAddress,
      poolFqdn: names.pool,
      displayName: names.displayName,
      identity: names.identity,
      limit: names.resultSize,
    },
  };
}

/** New-CsPersistentChatEndpoint / `pchat endpoint new` / `pchat migrate` (replaceLegacyUser). */
export async function newEndpoint(
  context: Context,
  options: { sipAddress: string; pool: string; displayName?: string; whatIf?: boolean; replaceLegacyUser?: boolean },
  names: Spelling,
): Promise<ExitCode> {
  const body = {
    operation: 'create' as const,
    sipAddress: options.sipAddress,
    poolFqdn: options.pool,
    ...(options.displayName !== undefined ? { displayName: options.displayName } : {}),
    ...(options.replaceLegacyUser ? { replaceLegacyUser: true } : {}),
  };
  return submitChange(context, body, options.whatIf === true, names.names);
}

/** Remove-CsPersistentChatEndpoint / `pchat endpoint remove`: -Identity is a SIP address, or a display name looked up first. */
export async function removeEndpoint(
  context: Context,
  options: { identity: string; whatIf?: boolean },
  names: Spelling,
): Promise<ExitCode> {
  const sipAddress = isSipAddress(options.identity)
    ? options.identity
    : (await endpointByIdentity(context, options.identity, names)).sipAddress;
  return submitChange(context, { operation: 'delete', sipAddress }, options.whatIf === true, {
    ...names.names,
    sipAddress: names.identity,
  });
}

/** Get-CsPersistentChatEndpoint / `pchat endpoint get`: one by -Identity, or every match of -Filter and the pool, up to -ResultSize. */
export async function getEndpoints(
  context: Context,
  options: { identity?: string; pool?: string; filter?: string; resultSize?: number },
  names: Spelling,
): Promise<ExitCode> {
  if (options.identity !== undefined) {
    for (const [given, name] of [
      [options.filter, names.filter],
      [options.pool, names.pool],
      [options.resultSize, names.resultSize],
    ] as const)
      if (given !== undefined) throw usage(name, `cannot be combined with ${names.identity} (which names one endpoint)`);
    const endpoint = await endpointByIdentity(context, options.identity, names);
    show(context.output, endpoint, () => endpointText(endpoint));
    return ExitCode.done;
  }
  const page = await endpointPages(context, options, names);
  show(context.output, page, () =>
    table(page.items, [
      ['SipAddress', (e: EndpointView) => e.sipAddress],
      ['PersistentChatPoolFqdn', (e: EndpointView) => e.poolFqdn],
      ['DisplayName', (e: EndpointView) => e.displayName],
      ['Default', (e: EndpointView) => (e.isDefault ? 'yes' : '')],
    ]),
  );
  return ExitCode.done;
}

/** The largest page the API returns. */
const MAX_PAGE = 1000;

/** Reads pages of GET /api/endpoints until `resultSize` endpoints (or all of them): one Page, as the API shapes it. */
async function endpointPages(
  context: Context,
  options: { pool?: string; filter?: string; resultSize?: number },
  names: Spelling,
): Promise<{ items: EndpointView[]; nextCursor: string | null }> {
  const items: EndpointView[] = [];
  let cursor: string | undefined;
  for (;;) {
    const wanted = options.resultSize === undefined ? MAX_PAGE : Math.min(MAX_PAGE, options.resultSize - items.length);
    const answer = await context.api.call('GET', '/endpoints', {
      poolFqdn: options.pool,
      sipAddress: options.filter,
      limit: wanted,
      cursor,
    });
    if (answer.status !== 200) throw failureOf(answer, { ...names.names, sipAddress: names.filter });
    const page = answer.body as { items: EndpointView[]; nextCursor: string | null };
    items.push(...page.items);
    const full = options.resultSize !== undefined && items.length >= options.resultSize;
    if (page.nextCursor === null || full) return { items, nextCursor: page.nextCursor };
    cursor = page.nextCursor;
  }
}

/** GET /api/endpoints/{identity}: by SIP address, or by display name (409 when several share it). */
async function endpointByIdentity(context: Context, identity: string, names: Spelling): Promise<EndpointView> {
  const answer = await context.api.call('GET', `/endpoints/${encodeURIComponent(identity)}`);
  if (answer.status !== 200) throw failureOf(answer, { ...names.names, sipAddress: names.identity });
  return answer.body as EndpointView;
}

function isSipAddress(identity: string): boolean {
  return /^sip:/i.test(identity);
}

function endpointText(endpoint: EndpointView): string {
  return block([
    ['Identity', endpoint.sipAddress],
    ['SipAddress', endpoint.sipAddress],
    ['PersistentChatPoolFqdn', endpoint.poolFqdn],
    ['DisplayName', endpoint.displayName],
    ['IsDefault', endpoint.isDefault],
    ['CreatedAt', endpoint.createdAt],
  ]);
}
