import { randomUUID } from 'node:crypto';
import { uuidv7 } from '../../shared/adapters/system';
import { toCloudEvent } from '../../shared/application/events';
import type { DirectoryCommit, DirectorySnapshot } from '../../shared/application/ports/directory';
import type { Destination } from '../../shared/application/ports/messageBus';
import { AuditAction, GENESIS_HEAD, appendToChain, type AuditDraft } from '../../shared/domain/audit';
import type { AuditCheckpoint } from '../../shared/domain/auditVerification';
import type { QueuedChangeRequest } from '../../shared/application/changeRequests/applyChangeRequest';
import type {
  ChangeRequest,
  ChangeRequestBody,
  CreateEndpointRequest,
  DeleteEndpointRequest,
  ValidChangeRequest,
} from '../../shared/domain/changeRequest';
import type {
  AddressHolder,
  DirectoryUser,
  DirectoryView,
  DirectoryWrite,
  Endpoint,
  PersistentChatPool,
  SipDomain,
} from '../../shared/domain/directory';
import { FqdnSchema, SipAddressSchema, type Fqdn, type SipAddress } from '../../shared/domain/names';

/**
 * Test data builders, one place for every test: small functions with overrides, no fixtures that
 * depend on what an earlier test left behind.
 */

/** A time well before the tests' "now". */
export const EARLIER = '2024-01-01T00:00:00.000Z';

/** A SIP address, parsed (and so normalized) as the service parses one. */
export const sip = (value: string): SipAddress => SipAddressSchema.parse(value);

/** An FQDN, parsed as the service parses one. */
export const fqdn = (value: string): Fqdn => FqdnSchema.parse(value);

let uniqueCounter = 0;

/** A name no other test in this process uses: each test makes its own SIP domain and pools. */
export function uniqueLabel(prefix = 't'): string {
  uniqueCounter += 1;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${uniqueCounter}`;
}

/** A SIP domain. */
export function aDomain(overrides: Partial<SipDomain> = {}): SipDomain {
  return { name: fqdn('contoso.com'), addedAt: EARLIER, ...overrides };
}

/** A Persistent Chat pool with no admin-created endpoint. */
export function aPool(overrides: Partial<PersistentChatPool> = {}): PersistentChatPool {
  return {
    fqdn: fqdn('pcpool.contoso.com'),
    defaultEndpointSipAddress: sip('sip:pcdefault@contoso.com'),
    adminEndpointSipAddress: null,
    registeredAt: EARLIER,
    ...overrides,
  };
}

/** An admin-created endpoint. */
export function anEndpoint(overrides: Partial<Endpoint> = {}): Endpoint {
  return {
    kind: 'endpoint',
    sipAddress: sip('sip:chat@contoso.com'),
    poolFqdn: fqdn('pcpool.contoso.com'),
    displayName: null,
    isDefault: false,
    createdAt: EARLIER,
    changeRequestId: 'cr-1',
    ...overrides,
  };
}

/** A pool's system-owned default endpoint. */
export function aDefaultEndpoint(pool: PersistentChatPool): Endpoint {
  return {
    kind: 'endpoint',
    sipAddress: pool.defaultEndpointSipAddress,
    poolFqdn: pool.fqdn,
    displayName: null,
    isDefault: true,
    createdAt: pool.registeredAt,
    changeRequestId: null,
  };
}

/** A directory user holding a SIP address (by default the Lync 2010 Group Chat well-known user). */
export function aUser(overrides: Partial<DirectoryUser> = {}): DirectoryUser {
  return { kind: 'user', sipAddress: sip('sip:ocschat@contoso.com'), displayName: 'Group Chat', addedAt: EARLIER, ...overrides };
}

/** A create request (New-CsPersistentChatEndpoint). */
export function aCreateRequest(overrides: Partial<CreateEndpointRequest> = {}): CreateEndpointRequest {
  return { operation: 'create', sipAddress: sip('sip:chat@contoso.com'), poolFqdn: fqdn('pcpool.contoso.com'), ...overrides };
}

/** A delete request (Remove-CsPersistentChatEndpoint). */
export function aDeleteRequest(overrides: Partial<DeleteEndpointRequest> = {}): DeleteEndpointRequest {
  return { operation: 'delete', sipAddress: sip('sip:chat@contoso.com'), ...overrides };
}

// What the store ports take: change requests, audit drafts, commits and checkpoints.

/** The tests' "now" (where ManualClock starts). */
export const NOW = '2024-05-01T10:00:00.000Z';

/** The version and head an empty store snapshots as: what a first commit is decided on. */
export const EMPTY_STORE: Pick<DirectorySnapshot, 'version' | 'head'> = { version: '', head: GENESIS_HEAD };

/** A change request as it arrives on a queue from automation: a create or delete, with a fresh id. */
export function aQueuedRequest(request: ChangeRequestBody, changeRequestId: string = uuidv7()): QueuedChangeRequest {
  return { changeRequestId, request, actor: 'provisioning-bot', correlationId: `corr-${changeRequestId}`, channel: 'queue' };
}

/** A queued create of `sipAddress` on `poolFqdn`. */
export function aQueuedCreate(sipAddress: string, poolFqdn: string, changeRequestId?: string): QueuedChangeRequest {
  return aQueuedRequest({ operation: 'create', sipAddress: sip(sipAddress), poolFqdn: fqdn(poolFqdn) }, changeRequestId);
}

/** A queued delete of `sipAddress`. */
export function aQueuedDelete(sipAddress: string, changeRequestId?: string): QueuedChangeRequest {
  return aQueuedRequest({ operation: 'delete', sipAddress: sip(sipAddress) }, changeRequestId);
}

/** A change request as admission records it: accepted, no ticket drawn yet, a fresh id unless one is given. */
export function aChangeRequest(overrides: Partial<ValidChangeRequest> = {}): ValidChangeRequest {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    status: 'accepted',
    request: aDeleteRequest(),
    reason: null,
    actor: 'alice',
    correlationId: `corr-${id}`,
    channel: 'http',
    acceptedAt: NOW,
    completedAt: null,
    auditSequence: null,
    ticket: null,
    ...overrides,
  };
}

/** An audit draft: by default an administrator adding the SIP domain contoso.com. */
export function anAuditDraft(overrides: Partial<AuditDraft> = {}): AuditDraft {
  return {
    id: randomUUID(),
    actor: 'admin@contoso.com',
    action: AuditAction.sipDomainAdded,
    subject: 'sip-domain:contoso.com',
    changeRequestId: null,
    correlationId: 'corr-1',
    causationId: null,
    outcome: { status: 'applied' },
    before: null,
    after: null,
    ...overrides,
  };
}

/** What a decision commits, and when it was decided (the audit records' time; NOW unless given). */
export interface CommitContents {
  writes?: DirectoryWrite[];
  changeRequests?: ChangeRequest[];
  /** The changed requests' statuses as stored before (absent: recorded here first). */
  storedStatuses?: Map<string, ChangeRequest['status']>;
  drafts?: AuditDraft[];
  now?: Date;
}

/** A commit decided on `base`: its drafts chained on base.head as audit records, each with its event. */
export function aCommit(base: Pick<DirectorySnapshot, 'version' | 'head'>, contents: CommitContents = {}): DirectoryCommit {
  const { records, head } = appendToChain(base.head, contents.drafts ?? [], contents.now ?? new Date(NOW));
  return {
    expectedVersion: base.version,
    head,
    writes: contents.writes ?? [],
    changeRequests: contents.changeRequests ?? [],
    storedStatuses: contents.storedStatuses ?? new Map(),
    audit: records,
    outbox: records.map((record) => toCloudEvent(record, '/test')),
  };
}

/** A commit on `base` adding the SIP domain `name`, audited as sip-domain.added of `sip-domain:<name>`. */
export function aDomainCommit(base: Pick<DirectorySnapshot, 'version' | 'head'>, name: string): DirectoryCommit {
  return aCommit(base, {
    writes: [{ type: 'putDomain', domain: aDomain({ name: fqdn(name) }) }],
    drafts: [anAuditDraft({ subject: `sip-domain:${name}` })],
  });
}

/** A signed checkpoint of the audit head (storage keeps it as given; only the verifier checks signatures). */
export function aCheckpoint(overrides: Partial<AuditCheckpoint> = {}): AuditCheckpoint {
  return { sequence: 1, hash: 'a'.repeat(64), time: NOW, signature: 'c2lnbmVk', ...overrides };
}

/** Queue names no other test in this process uses (Storage queue names: lower-case letters, digits and hyphens). */
export function uniqueQueueNames(): Record<Destination, string> {
  const prefix = uniqueLabel('q').toLowerCase();
  return {
    endpointCreate: `${prefix}-endpoint-create`,
    endpointDelete: `${prefix}-endpoint-delete`,
    auditEvents: `${prefix}-audit-events`,
  };
}

/**
 * A first commit onto an empty store that writes one of everything: a domain, a pool with its
 * default endpoint, a directory user, a change request and two audit records (with their events).
 */
export function aFirstCommit(): { commit: DirectoryCommit; pool: PersistentChatPool; user: DirectoryUser; request: ValidChangeRequest } {
  const pool = aPool({ defaultEndpointSipAddress: sip('sip:pchat-default@contoso.com') });
  const user = aUser({ sipAddress: sip('sip:ocschat@contoso.com'), displayName: 'Group Chat' });
  const request = aChangeRequest({ id: '0190c0de-0000-7000-8000-0000000000aa', request: aCreateRequest({ poolFqdn: pool.fqdn }) });
  const commit = aCommit(EMPTY_STORE, {
    writes: [
      { type: 'putDomain', domain: aDomain() },
      { type: 'putPool', pool },
      { type: 'putHolder', holder: aDefaultEndpoint(pool) },
      { type: 'putHolder', holder: user },
    ],
    drafts: [
      anAuditDraft({ action: AuditAction.sipDomainAdded, subject: 'sip-domain:contoso.com' }),
      anAuditDraft({ action: AuditAction.poolRegistered, subject: 'pool:pcpool.contoso.com' }),
    ],
    changeRequests: [request],
  });
  return { commit, pool, user, request };
}

/** A directory view over plain lists; `domainsInUse` defaults to the domains of the holders. */
export function aView({
  domains = ['contoso.com'],
  pools = [aPool()],
  holders = [],
  domainsInUse,
}: {
  domains?: string[];
  pools?: PersistentChatPool[];
  holders?: AddressHolder[];
  domainsInUse?: string[];
} = {}): DirectoryView {
  const inUse = domainsInUse ?? holders.map((h) => h.sipAddress.slice(h.sipAddress.lastIndexOf('@') + 1));
  return {
    domain: (name) => (domains.includes(name) ? { name, addedAt: EARLIER } : undefined),
    pool: (name) => pools.find((p) => p.fqdn === name),
    holder: (address) => holders.find((h) => h.sipAddress === address),
    domainInUse: (name) => inUse.includes(name),
  };
}
