import { createHash } from 'node:crypto';
import { domainOf, userOf, type Fqdn, type SipAddress } from '../../domain/names';

/**
 * The row layout of the directory table. One deployment's whole directory lives in one partition,
 * so one entity-group transaction can carry a state change, its audit record and its event.
 *
 *   head                              the audit chain's head; every commit updates it (If-Match),
 *                                     which serializes writers and guards each decision's snapshot
 *   domain|<domain>                   a supported SIP domain
 *   pool|<fqdn>                       a Persistent Chat pool, naming its default and admin endpoint
 *   address|<domain>|<user>           the one holder of a SIP address: an endpoint or a directory user
 *   cr|<id>                           a change request and its status
 *   audit|<inverted sequence>         an audit record; inverted so a forward scan is newest first
 *   auditsub|<subject>|<inverted seq> the same record, indexed by subject
 *   auditix|<dimension>|<value>|<inv> the same record, indexed by actor, type, outcome, change request and correlation id
 *   outbox|<sequence>                 an event committed but not yet published
 *   line|<domain>|<user>              the last ticket drawn for a SIP address (its waiting list's counter)
 *   pending|<domain>|<user>|<ticket>  an accepted request in its address's waiting list, with its
 *                                     re-drive schedule; the lowest ticket is next, and the
 *                                     re-driver scans these rows
 *   checkpoint|<inverted sequence>   a signed checkpoint of the audit head, newest first
 *   idem|<sha256(caller, key)>        an Idempotency-Key and the request it admitted
 *   idemexp|<expiresAt>|<sha256>      the same key by expiry time, so purging reads only expired keys
 *
 * Key parts are URI-encoded: Table keys must not hold / \ # ? or control characters.
 */

// Below Number.MAX_SAFE_INTEGER, so the arithmetic is exact; 15 digits outlast any audit log.
const MAX_SEQUENCE = 999_999_999_999_999;

const encode = (part: string) => encodeURIComponent(part);
const addressPart = (sipAddress: SipAddress) => `${encode(domainOf(sipAddress))}|${encode(userOf(sipAddress))}`;
const padded = (n: number) => String(n).padStart(15, '0');
/** Newest first under a forward scan: the sequence counted down from the largest one. */
const inverted = (sequence: number) => padded(MAX_SEQUENCE - sequence);

/** The smallest string greater than every key that starts with `prefix`. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Keys are caller-chosen text of up to 255 characters, scoped by caller: hashed into a fixed-size key part. */
function idempotencyHash(scope: string, key: string): string {
  return createHash('sha256').update(`${scope}\n${key}`).digest('hex');
}

/** The audit dimensions with an index besides subject. */
export type AuditIndex = 'actor' | 'type' | 'outcome' | 'changeRequest' | 'correlation';

/** Every row key and key prefix of the directory table. */
export const rowKeys = {
  head: 'head',
  domain: (name: Fqdn) => `domain|${encode(name)}`,
  domainPrefix: 'domain|',
  pool: (fqdn: Fqdn) => `pool|${encode(fqdn)}`,
  poolPrefix: 'pool|',
  address: (sipAddress: SipAddress) => `address|${addressPart(sipAddress)}`,
  addressPrefix: 'address|',
  addressesInDomain: (name: Fqdn) => `address|${encode(name)}|`,
  changeRequest: (id: string) => `cr|${encode(id)}`,
  audit: (sequence: number) => `audit|${inverted(sequence)}`,
  auditPrefix: 'audit|',
  /** The sequence an audit row's key places it at. */
  auditPosition: (rowKey: string) => MAX_SEQUENCE - Number(rowKey.slice('audit|'.length)),
  checkpoint: (sequence: number) => `checkpoint|${inverted(sequence)}`,
  checkpointPrefix: 'checkpoint|',
  auditBySubject: (subject: string, sequence: number) => `auditsub|${encode(subject)}|${inverted(sequence)}`,
  auditSubjectPrefix: (subject: string) => `auditsub|${encode(subject)}|`,
  auditIndex: (dimension: AuditIndex, value: string, sequence: number) => `auditix|${dimension}|${encode(value)}|${inverted(sequence)}`,
  auditIndexPrefix: (dimension: AuditIndex, value: string) => `auditix|${dimension}|${encode(value)}|`,
  /** The key within an audit prefix that holds `sequence` (index keys end with the same inverted sequence). */
  auditAt: (prefix: string, sequence: number) => `${prefix}${inverted(sequence)}`,
  outbox: (sequence: number) => `outbox|${padded(sequence)}`,
  outboxPrefix: 'outbox|',
  lastTicket: (sipAddress: SipAddress) => `line|${addressPart(sipAddress)}`,
  waiting: (sipAddress: SipAddress, ticket: number) => `pending|${addressPart(sipAddress)}|${padded(ticket)}`,
  waitingListOf: (sipAddress: SipAddress) => `pending|${addressPart(sipAddress)}|`,
  waitingPrefix: 'pending|',
  idempotencyKey: (scope: string, key: string) => `idem|${idempotencyHash(scope, key)}`,
  idempotencyExpiry: (expiresAt: string, scope: string, key: string) => `idemexp|${expiresAt}|${idempotencyHash(scope, key)}`,
  idempotencyExpiryPrefix: 'idemexp|',
};
