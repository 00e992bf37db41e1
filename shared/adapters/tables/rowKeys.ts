import { createHash } from 'node:crypto';
import { canonicalSipText, domainOf, userOf, type Fqdn, type SipAddress } from '../../domain/names';

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
 *   crix|<index>|<inv accepted>|<id>  the same request, indexed newest first (inverted acceptedAt in ms) in
 *                                     each listing: `all`, `actor|<actor>`, `status|<status>`,
 *                                     `address|<domain>|<user>`, `operation|<op>`; written with the
 *                                     request in every transaction that records or settles it
 *   audit|<inverted sequence>         an audit record; inverted so a forward scan is newest first
 *   auditsub|<subject>|<inverted seq> the same record, indexed by subject
 *   auditix|<dimension>|<value>|<inv> the same record, indexed by actor, onBehalfOf (when claimed), type, outcome,
 *                                     change request and correlation id
 *   outbox|<sequence>                 an event committed but not yet published
 *   outbox|<sequence>|checkpoint      the event of the checkpoint signed at that sequence (sorts right
 *                                     after the record's own event, so the outbox stays in sequence order)
 *   line|<domain>|<user>              the last ticket drawn for a SIP address (its waiting list's counter)
 *   pending|<domain>|<user>|<ticket>  an accepted request in its address's waiting list, with its
 *                                     re-drive schedule; the lowest ticket is next, and the
 *                                     re-driver scans these rows
 *   checkpoint|<inverted sequence>   a signed checkpoint of the audit head, newest first; its
 *                                     `witnessBlob` column says whether the blob witness has a copy
 *   verified                          the signed record of how far the last verification found the log
 *                                     intact (where the next incremental verification starts)
 *   verification|<id>                 an asynchronous verification: status, progress, result, and
 *                                     where its walk is (with a `status` column the timer filters on)
 *   idem|<sha256(caller, key)>        an Idempotency-Key and the request it admitted
 *   idemexp|<expiresAt>|<sha256>      the same key by expiry time, so purging reads only expired keys
 *
 * Every value in a key goes through keyPart: URI-encoded (Table keys must not hold / \ # ? or
 * control characters) while short and well-formed, otherwise hashed to a fixed length, so no input
 * can break the encoding or push a key past the limit. Values are never read back out of keys:
 * they come from the rows' properties. The schema version of this layout is a column of the head
 * row (see canonicalAddressMigration.ts).
 */

/** The version of this layout, kept in the head row's SCHEMA_VERSION_COLUMN (absent: 1); see canonicalAddressMigration.ts. */
export const LAYOUT_VERSION = 3;
export const SCHEMA_VERSION_COLUMN = 'schemaVersion';

// Below Number.MAX_SAFE_INTEGER, so the arithmetic is exact; 15 digits outlast any audit log.
const MAX_SEQUENCE = 999_999_999_999_999;

/**
 * The longest key part kept readable. Azure Table keys hold at most 1 KiB, which Azurite enforces as
 * 512 UTF-16 characters; every key here is ASCII (encoded or hex), so characters are what count.
 * The longest keys have two value parts: `pending|<domain>|<user>|<15-digit ticket>` is
 * 8 + 200 + 1 + 200 + 1 + 15 = 425 characters, `address|…|…` 409 and `line|…|…` 406; with one part,
 * `auditix|correlation|<value>|<15 digits>` is 20 + 200 + 1 + 15 = 236. All well under 512, which
 * leaves room for `conflict|<key>|<16 hex>` (the migration's conflict rows): at most 451. The
 * change-request listings' `crix|address|<200>|<200>|<15>|<id>` is the longest key, at most 495
 * (see indexedId); it never gets a conflict row.
 */
export const MAX_KEY_PART_LENGTH = 200;

/**
 * The marker of a hashed key part. encodeURIComponent never emits `=` (it encodes it as %3D), so a
 * hashed part can never equal an encoded one; Table keys allow it.
 */
export const HASHED_KEY_PART_MARK = 'sha256=';

/** Whether a string is well-formed UTF-16: no lone surrogate (which encodeURIComponent throws on). */
function isWellFormed(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

/**
 * A value as a key part; never throws. Short well-formed values are URI-encoded, exactly as keys
 * were always written, so existing rows keep their keys. Anything else (a lone surrogate, or an
 * encoding longer than MAX_KEY_PART_LENGTH) becomes `sha256=<64 hex>` over the value's UTF-16 code
 * units, which keeps distinct ill-formed values distinct (UTF-8 would turn every lone surrogate
 * into U+FFFD). Lookups hash the same way, so they find what was written.
 */
export function keyPart(value: string): string {
  // An encoding is never shorter than its value: a long value is hashed without encoding it at all.
  if (value.length <= MAX_KEY_PART_LENGTH && isWellFormed(value)) {
    const encoded = encodeURIComponent(value);
    if (encoded.length <= MAX_KEY_PART_LENGTH) return encoded;
  }
  return HASHED_KEY_PART_MARK + createHash('sha256').update(Buffer.from(value, 'utf16le')).digest('hex');
}

const addressPart = (sipAddress: SipAddress) => `${keyPart(domainOf(sipAddress))}|${keyPart(userOf(sipAddress))}`;
/** Subjects are free text; one naming a SIP address is keyed in its canonical form, written and queried alike. */
const subjectPart = (subject: string) => keyPart(canonicalSipText(subject));
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

/**
 * A change request's id in an index key: a UUID as it is (UUIDv7 ids then sort by creation within a
 * millisecond), anything else as 64 hex digits of its SHA-256, which no UUID spells: so the longest
 * index key, `crix|address|<200>|<200>|<15>|<64>`, is 495 characters, under the 512 limit.
 */
const indexedId = (id: string) =>
  /^[0-9a-f-]{1,36}$/i.test(id) ? id : createHash('sha256').update(Buffer.from(id, 'utf16le')).digest('hex');

/** A change request's time in an index key: its acceptedAt in epoch milliseconds, counted down so a forward scan is newest first. */
const invertedTime = (acceptedAt: string) => inverted(Date.parse(acceptedAt));

/** The listings of change requests, each an index of `crix|` rows (see changeRequestIndexes in entities.ts). */
export type ChangeRequestIndex =
  | { index: 'all' }
  | { index: 'actor'; actor: string }
  | { index: 'status'; status: string }
  | { index: 'address'; sipAddress: SipAddress }
  | { index: 'operation'; operation: string };

/** The key prefix of one change-request index. */
function changeRequestIndexPrefix(index: ChangeRequestIndex): string {
  switch (index.index) {
    case 'all':
      return 'crix|all|';
    case 'actor':
      return `crix|actor|${keyPart(index.actor)}|`;
    case 'status':
      return `crix|status|${keyPart(index.status)}|`;
    case 'address':
      return `crix|address|${addressPart(index.sipAddress)}|`;
    case 'operation':
      return `crix|operation|${keyPart(index.operation)}|`;
  }
}

/** The audit dimensions with an index besides subject. */
export type AuditIndex = 'actor' | 'onBehalfOf' | 'type' | 'outcome' | 'changeRequest' | 'correlation';

/** Every row key and key prefix of the directory table. */
export const rowKeys = {
  head: 'head',
  domain: (name: Fqdn) => `domain|${keyPart(name)}`,
  domainPrefix: 'domain|',
  pool: (fqdn: Fqdn) => `pool|${keyPart(fqdn)}`,
  poolPrefix: 'pool|',
  address: (sipAddress: SipAddress) => `address|${addressPart(sipAddress)}`,
  addressPrefix: 'address|',
  addressesInDomain: (name: Fqdn) => `address|${keyPart(name)}|`,
  changeRequest: (id: string) => `cr|${keyPart(id)}`,
  changeRequestPrefix: 'cr|',
  changeRequestIndexPrefix,
  /** Every index row of every listing. */
  changeRequestIndexRoot: 'crix|',
  /** A request's row in one index: newest first, ties (one millisecond) in id order. */
  changeRequestIndexed: (index: ChangeRequestIndex, acceptedAt: string, id: string) =>
    `${changeRequestIndexPrefix(index)}${invertedTime(acceptedAt)}|${indexedId(id)}`,
  /**
   * The first key of an index at or before `time` (newest first: rows accepted at or before it
   * start here), and the key just past the rows accepted at `time` (`}` follows the `|` separator).
   */
  changeRequestIndexFrom: (index: ChangeRequestIndex, time: string) => `${changeRequestIndexPrefix(index)}${invertedTime(time)}|`,
  changeRequestIndexTo: (index: ChangeRequestIndex, time: string) => `${changeRequestIndexPrefix(index)}${invertedTime(time)}}`,
  audit: (sequence: number) => `audit|${inverted(sequence)}`,
  auditPrefix: 'audit|',
  /** The sequence an audit row's key places it at. */
  auditPosition: (rowKey: string) => MAX_SEQUENCE - Number(rowKey.slice('audit|'.length)),
  checkpoint: (sequence: number) => `checkpoint|${inverted(sequence)}`,
  checkpointPrefix: 'checkpoint|',
  verified: 'verified',
  verification: (id: string) => `verification|${keyPart(id)}`,
  verificationPrefix: 'verification|',
  auditBySubject: (subject: string, sequence: number) => `auditsub|${subjectPart(subject)}|${inverted(sequence)}`,
  auditSubjectPrefix: (subject: string) => `auditsub|${subjectPart(subject)}|`,
  auditIndex: (dimension: AuditIndex, value: string, sequence: number) => `auditix|${dimension}|${keyPart(value)}|${inverted(sequence)}`,
  auditIndexPrefix: (dimension: AuditIndex, value: string) => `auditix|${dimension}|${keyPart(value)}|`,
  /** The key within an audit prefix that holds `sequence` (index keys end with the same inverted sequence). */
  auditAt: (prefix: string, sequence: number) => `${prefix}${inverted(sequence)}`,
  outbox: (sequence: number) => `outbox|${padded(sequence)}`,
  checkpointOutbox: (sequence: number) => `outbox|${padded(sequence)}|checkpoint`,
  outboxPrefix: 'outbox|',
  lastTicket: (sipAddress: SipAddress) => `line|${addressPart(sipAddress)}`,
  waiting: (sipAddress: SipAddress, ticket: number) => `pending|${addressPart(sipAddress)}|${padded(ticket)}`,
  waitingListOf: (sipAddress: SipAddress) => `pending|${addressPart(sipAddress)}|`,
  waitingPrefix: 'pending|',
  idempotencyKey: (scope: string, key: string) => `idem|${idempotencyHash(scope, key)}`,
  idempotencyExpiry: (expiresAt: string, scope: string, key: string) => `idemexp|${expiresAt}|${idempotencyHash(scope, key)}`,
  idempotencyExpiryPrefix: 'idemexp|',
};
