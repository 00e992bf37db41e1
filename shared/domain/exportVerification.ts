import { z } from 'zod';
import { GENESIS_HEAD, hashAuditRecord, type AuditRecord } from './audit';
import { BreakKind, checkpointSignatureBreak, type AuditCheckpoint, type ChainBreak, type CheckpointKeys } from './auditVerification';
import { SigningAlgorithm, type VerificationKey } from './signingKeys';
import { checkpointIdentity, compareWithWitness } from './witnesses';
import { isWellFormed } from './text';

/**
 * Offline verification: an audit export (GET /api/audit?format=ndjson), copies of the signed
 * checkpoints and the public keys, checked with no storage and no private key. Pure: the caller
 * reads the files and hands over one line at a time, so a huge export is never held in memory
 * (the checkpoints are: there is one per timer run, not one per record).
 */

/** A line longer than this is refused: an audit record is a table entity, at most 1 MiB of data. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

/** The action of the line an export cut at its limit ends with (shared/entrypoints/http/auditExport.ts). */
export const TRUNCATED_ACTION = 'export.truncated';

/** The CloudEvent type a checkpoint is published as: a subscriber's saved events are a checkpoint copy as they are. */
export const CHECKPOINT_EVENT_TYPE = 'pchat.audit.checkpoint.v1';

/** A line that is not what the file must hold: the verifier cannot check the file (exit 3), it does not call it broken. */
export class ExportFormatError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

const HEX_HASH = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const TEXT = z.string().max(MAX_LINE_BYTES);
const SEQUENCE = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** What every audit record carries (members beyond these are allowed: the hash covers them too). */
const auditRecordSchema = z.looseObject({
  id: TEXT,
  actor: TEXT,
  onBehalfOf: TEXT.optional(),
  action: TEXT,
  subject: TEXT,
  changeRequestId: TEXT.nullable(),
  correlationId: TEXT,
  causationId: TEXT.nullable(),
  outcome: z.union([
    z.looseObject({ status: z.literal('applied') }),
    z.looseObject({ status: z.enum(['rejected', 'failed']), code: TEXT, message: TEXT }),
  ]),
  before: z.unknown(),
  after: z.unknown(),
  sequence: SEQUENCE,
  time: TEXT,
  previousHash: HEX_HASH,
  hash: HEX_HASH,
});

const checkpointSchema = z
  .object({
    sequence: SEQUENCE,
    hash: HEX_HASH,
    time: TEXT,
    keyId: TEXT.optional(),
    algorithm: z.enum([SigningAlgorithm.edDsa, SigningAlgorithm.es256]).optional(),
    signature: z.string().regex(/^[A-Za-z0-9+/]{1,1024}={0,2}$/, 'must be base64'),
  })
  .refine((c) => (c.keyId === undefined) === (c.algorithm === undefined), 'keyId and algorithm come together (v2) or not at all (v1)');

/** The first zod issue as "member: rule". */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'is not valid';
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'the line';
  return `${where}: ${issue.message}`;
}

/** The first string (member name or value) that holds a lone surrogate, if any. */
function illFormedString(value: unknown): string | undefined {
  if (typeof value === 'string') return isWellFormed(value) ? undefined : value;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    if (!isWellFormed(key)) return key;
    const found = illFormedString(member);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** One line parsed as JSON, refusing what no service line holds: not JSON, not an object, a lone surrogate. */
function parseJsonLine(text: string, line: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ExportFormatError(line, 'is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ExportFormatError(line, 'is not a JSON object');
  if (illFormedString(value) !== undefined)
    throw new ExportFormatError(line, 'holds a lone UTF-16 surrogate (not well-formed Unicode), which no audit record holds');
  return value as Record<string, unknown>;
}

/** A line of an export: a record, or the line that says the export stopped at its limit. */
export type ExportLine = { kind: 'record'; record: AuditRecord } | { kind: 'truncated'; message: string };

/** Parses one export line (its text, decoded from UTF-8); throws ExportFormatError naming the line. */
export function parseExportLine(text: string, line: number): ExportLine {
  const value = parseJsonLine(text, line);
  if (value.action === TRUNCATED_ACTION) return { kind: 'truncated', message: typeof value.message === 'string' ? value.message : '' };
  const parsed = auditRecordSchema.safeParse(value);
  if (!parsed.success) throw new ExportFormatError(line, `is not an audit record (${firstIssue(parsed.error)})`);
  // The parsed JSON itself is what is checked: every member it has is covered by the hash.
  return { kind: 'record', record: value as unknown as AuditRecord };
}

/** Parses one line of a checkpoints file: a checkpoint, or a pchat.audit.checkpoint.v1 CloudEvent whose data is one. */
export function parseCheckpointLine(text: string, line: number): AuditCheckpoint {
  const value = parseJsonLine(text, line);
  let candidate: unknown = value;
  if ('specversion' in value || 'type' in value) {
    if (value.type !== CHECKPOINT_EVENT_TYPE)
      throw new ExportFormatError(line, `is an event of type ${String(value.type)}, not ${CHECKPOINT_EVENT_TYPE}`);
    candidate = value.data;
  }
  const parsed = checkpointSchema.safeParse(candidate);
  if (!parsed.success) throw new ExportFormatError(line, `is not a checkpoint (${firstIssue(parsed.error)})`);
  // Only the six signed members: an API answer's `witnesses` is not part of the checkpoint.
  const { sequence, hash, time, keyId, algorithm, signature } = parsed.data;
  return keyId === undefined ? { sequence, hash, time, signature } : { sequence, hash, time, keyId, algorithm, signature };
}

/** One copy of the checkpoints (the API's, a witness's), by the file it came from. */
export interface CheckpointCopy {
  name: string;
  checkpoints: AuditCheckpoint[];
}

/**
 * Why a checkpoint's signature does not hold with the keys file, or undefined when it does. A v2
 * checkpoint names its key by kid; a v1 checkpoint (made before key ids) holds when one of the
 * set's Ed25519 keys verifies it.
 */
export function checkpointBreakWithKeySet(checkpoint: AuditCheckpoint, keys: readonly VerificationKey[]): ChainBreak | undefined {
  const byId = new Map(keys.map((key) => [key.keyId, key]));
  const legacy = keys.filter((key) => key.algorithm === SigningAlgorithm.edDsa);
  return checkpointSignatureBreak(checkpoint, { byId, legacy } satisfies CheckpointKeys);
}

/**
 * Compares the copies as the server compares the table with its witness: the first is the log's own
 * copy (GET /api/audit/checkpoints), each later one a witness (a subscriber's saved events, the WORM
 * container's day files). A checkpoint a witness holds that the log's copy lacks is
 * checkpoint_missing (deleted), a different one at the same sequence checkpoint_mismatch. A witness
 * lacking one of the log's is no break: a subscriber may have begun later, and the log's own
 * checkpoints are checked by their signatures anyway.
 */
export function checkpointCopyBreaks(copies: readonly CheckpointCopy[]): ChainBreak[] {
  const [log, ...witnesses] = copies;
  if (!log) return [];
  return witnesses.flatMap(
    (witness) => compareWithWitness(log.checkpoints, witness.checkpoints, undefined, { table: log.name, witness: witness.name }).breaks,
  );
}

/** What offline verification found. */
export interface ExportReport {
  intact: boolean;
  recordsChecked: number;
  /** The break with the lowest sequence number. */
  firstBreak: ChainBreak | null;
  /** Every break found, lowest sequence first (at most MAX_REPORTED_BREAKS). */
  breaks: ChainBreak[];
  /** The sequence numbers the export spans (null: no records). */
  range: { oldest: number; newest: number } | null;
  order: 'newest first' | 'oldest first';
  /**
   * Whether the export starts at the start of the log (record 1, linked to the genesis hash). Whether
   * it reaches the log's head a file cannot say: records newer than its newest are not its business.
   */
  wholeLog: boolean;
  /** Whether it ended with the export.truncated line (a window: the older records were not exported). */
  truncated: boolean;
  /** How the oldest record's previousHash was checked: against genesis, a checkpoint, or not at all (a window). */
  oldestLink: 'genesis' | 'checkpoint' | 'unchecked';
  checkpoints: {
    /** Distinct checkpoints across every copy. */
    checked: number;
    /** Those whose sequence falls in the export's range (their hash compared with their record's). */
    inRange: number;
    /** Whether their signatures were checked (with a keys file) or not (without one, only the hashes were compared). */
    signatures: 'checked' | 'not checked';
    copies: Array<{ name: string; checkpoints: number }>;
    /** How many checkpoints each key id signed (null: v1 checkpoints, made before key ids). */
    byKey: Array<{ keyId: string | null; checkpoints: number }>;
  };
  /** Records newer than the newest checkpoint in range: chained to the others but not (yet) signed. */
  notCovered: { from: number; to: number } | null;
}

const MAX_REPORTED_BREAKS = 50;

/** The settings of one offline check. */
export interface ExportCheck {
  copies: readonly CheckpointCopy[];
  /** The keys file's keys; undefined when none was given (signatures are then not checked). */
  keys: readonly VerificationKey[] | undefined;
}

interface Seen {
  sequence: number;
  hash: string;
  previousHash: string;
}

/**
 * Walks an export one record at a time (newest first, as the API writes it, or oldest first) in
 * constant memory: every record hashes to its hash, adjacent records link, sequence numbers are
 * contiguous, and every checkpoint in range names its record's hash. The checkpoints' signatures
 * and the copies' agreement are checked up front.
 */
export class ExportVerifier {
  private readonly found: ChainBreak[] = [];
  private readonly bySequence = new Map<number, AuditCheckpoint[]>();
  private readonly distinct: AuditCheckpoint[];
  private previous: Seen | undefined;
  private oldest: Seen | undefined;
  private newest: Seen | undefined;
  private direction: 'newest first' | 'oldest first' | undefined;
  private checked = 0;
  private truncated = false;

  constructor(private readonly check: ExportCheck) {
    const seen = new Map<string, AuditCheckpoint>();
    for (const copy of check.copies) for (const c of copy.checkpoints) seen.set(checkpointIdentity(c), c);
    this.distinct = [...seen.values()].sort((a, b) => a.sequence - b.sequence);
    for (const c of this.distinct) this.bySequence.set(c.sequence, [...(this.bySequence.get(c.sequence) ?? []), c]);
    for (const broken of checkpointCopyBreaks(check.copies)) this.report(broken);
    if (check.keys) {
      for (const c of this.distinct) {
        const broken = checkpointBreakWithKeySet(c, check.keys);
        if (broken) this.report(broken);
      }
    }
  }

  /** Whether a truncation line was seen: nothing may follow it. */
  get ended(): boolean {
    return this.truncated;
  }

  /** The export ended with its export.truncated line. */
  markTruncated(): void {
    this.truncated = true;
  }

  /** The next record in file order. */
  add(record: AuditRecord): void {
    this.checked++;
    const { hash, ...content } = record;
    const seen: Seen = { sequence: record.sequence, hash, previousHash: record.previousHash };
    if (hashAuditRecord(content) !== hash)
      this.report({
        sequence: seen.sequence,
        kind: BreakKind.contentAltered,
        detail: `record ${seen.sequence}'s content does not hash to its hash`,
      });
    for (const c of this.bySequence.get(seen.sequence) ?? []) {
      if (c.hash !== hash)
        this.report({
          sequence: seen.sequence,
          kind: BreakKind.checkpointMismatch,
          detail: `the checkpoint of ${c.time} signed record ${seen.sequence} as ${c.hash.slice(0, 12)}…; the export has ${hash.slice(0, 12)}…`,
        });
    }
    if (this.previous) this.follow(this.previous, seen);
    if (!this.oldest || seen.sequence < this.oldest.sequence) this.oldest = seen;
    if (!this.newest || seen.sequence > this.newest.sequence) this.newest = seen;
    this.previous = seen;
  }

  /** Checks the step from the record before (in file order) to this one. */
  private follow(previous: Seen, current: Seen): void {
    this.direction ??= current.sequence < previous.sequence ? 'newest first' : 'oldest first';
    const [older, newer] = this.direction === 'newest first' ? [current, previous] : [previous, current];
    const step = newer.sequence - older.sequence;
    if (step === 1) {
      if (newer.previousHash !== older.hash)
        this.report({
          sequence: newer.sequence,
          kind: BreakKind.linkBroken,
          detail: `record ${newer.sequence} does not link to record ${older.sequence}`,
        });
    } else if (step > 1) {
      const [from, to] = [older.sequence + 1, newer.sequence - 1];
      const which = from === to ? `record ${from} is missing` : `records ${from}-${to} are missing`;
      this.report({
        sequence: from,
        kind: BreakKind.recordMissing,
        detail: `${which}: deleted, or the export is filtered (a file alone cannot tell the two apart; check a filtered export with --against <a contiguous export>)`,
      });
    } else {
      this.report({
        sequence: current.sequence,
        kind: BreakKind.outOfOrder,
        detail: `record ${current.sequence} follows record ${previous.sequence} in an export ordered ${this.direction}`,
      });
    }
  }

  /** The report, once every line has been added. */
  finish(): ExportReport {
    const range = this.oldest && this.newest ? { oldest: this.oldest.sequence, newest: this.newest.sequence } : null;
    const oldestLink = this.checkOldestLink();
    const inRange = range ? this.distinct.filter((c) => c.sequence >= range.oldest && c.sequence <= range.newest) : [];
    const newestSigned = inRange.at(-1)?.sequence;
    const notCovered =
      range && (newestSigned ?? range.oldest - 1) < range.newest
        ? { from: (newestSigned ?? range.oldest - 1) + 1, to: range.newest }
        : null;
    const breaks = [...this.found].sort((a, b) => a.sequence - b.sequence);
    const byKey = new Map<string | null, number>();
    for (const c of this.distinct) byKey.set(c.keyId ?? null, (byKey.get(c.keyId ?? null) ?? 0) + 1);
    return {
      intact: breaks.length === 0,
      recordsChecked: this.checked,
      firstBreak: breaks[0] ?? null,
      breaks: breaks.slice(0, MAX_REPORTED_BREAKS),
      range,
      order: this.direction ?? 'newest first',
      wholeLog: oldestLink === 'genesis',
      truncated: this.truncated,
      oldestLink,
      checkpoints: {
        checked: this.distinct.length,
        inRange: inRange.length,
        signatures: this.check.keys ? 'checked' : 'not checked',
        copies: this.check.copies.map((copy) => ({ name: copy.name, checkpoints: copy.checkpoints.length })),
        byKey: [...byKey].map(([keyId, checkpoints]) => ({ keyId, checkpoints })),
      },
      notCovered,
    };
  }

  /** Record 1 must link to genesis; a window's oldest record links to a checkpoint just before it, when there is one. */
  private checkOldestLink(): ExportReport['oldestLink'] {
    const oldest = this.oldest;
    if (!oldest) return 'unchecked';
    if (oldest.sequence === 1) {
      if (oldest.previousHash !== GENESIS_HEAD.hash)
        this.report({ sequence: 1, kind: BreakKind.linkBroken, detail: 'record 1 does not link to the start of the log (64 zeros)' });
      return 'genesis';
    }
    const before = this.bySequence.get(oldest.sequence - 1);
    if (!before) return 'unchecked';
    for (const c of before) {
      if (c.hash !== oldest.previousHash)
        this.report({
          sequence: oldest.sequence,
          kind: BreakKind.linkBroken,
          detail: `record ${oldest.sequence} does not link to the record the checkpoint at ${c.sequence} signed`,
        });
    }
    return 'checkpoint';
  }

  private report(found: ChainBreak): void {
    this.found.push(found);
    // An export broken everywhere must not fill memory: only the lowest breaks are kept.
    if (this.found.length > 2 * MAX_REPORTED_BREAKS) {
      this.found.sort((a, b) => a.sequence - b.sequence);
      this.found.length = MAX_REPORTED_BREAKS;
    }
  }
}

/** The contiguous export as the matcher reads it: the record at hand, and a step to the next. */
export interface ContiguousCursor {
  readonly current: AuditRecord | undefined;
  advance(): Promise<void>;
}

/** What matching a filtered export against a contiguous one found. */
export interface FilteredReport {
  recordsChecked: number;
  breaks: ChainBreak[];
}

/**
 * Matches a filtered export (gaps by design) against a contiguous export, both in the same order,
 * in one merge pass: each filtered record must hash to its own hash and be, hash for hash, the
 * record at its sequence in the contiguous export. A record outside the contiguous export's range
 * cannot be checked: an ExportFormatError naming its line.
 */
export class FilteredMatcher {
  private readonly found: ChainBreak[] = [];
  private checked = 0;
  private last: number | undefined;

  constructor(private readonly order: 'newest first' | 'oldest first') {}

  /**
   * One filtered record (at `line` of its file), against the contiguous export read from where the
   * last match stopped: `cursor.current` is its record at hand (undefined at its end).
   */
  async match(record: AuditRecord, line: number, cursor: ContiguousCursor): Promise<void> {
    this.checked++;
    const descending = this.order === 'newest first';
    if (this.last !== undefined && (descending ? record.sequence >= this.last : record.sequence <= this.last))
      throw new ExportFormatError(
        line,
        `record ${record.sequence} is out of order: the filtered export must be ordered ${this.order}, as the contiguous one is`,
      );
    this.last = record.sequence;
    const { hash, ...content } = record;
    if (hashAuditRecord(content) !== hash)
      this.keep({
        sequence: record.sequence,
        kind: BreakKind.contentAltered,
        detail: `record ${record.sequence}'s content does not hash to its hash`,
      });
    const before = (candidate: AuditRecord) => (descending ? candidate.sequence > record.sequence : candidate.sequence < record.sequence);
    while (cursor.current && before(cursor.current)) await cursor.advance();
    const candidate = cursor.current;
    if (candidate?.sequence !== record.sequence)
      throw new ExportFormatError(
        line,
        `record ${record.sequence} is outside the contiguous export's range: it cannot be checked against it`,
      );
    if (candidate.hash !== hash)
      this.keep({
        sequence: record.sequence,
        kind: BreakKind.contentAltered,
        detail: `record ${record.sequence} is not the record at ${record.sequence} in the contiguous export (${hash.slice(0, 12)}…, there ${candidate.hash.slice(0, 12)}…)`,
      });
  }

  private keep(found: ChainBreak): void {
    this.found.push(found);
    if (this.found.length > 2 * MAX_REPORTED_BREAKS) {
      this.found.sort((a, b) => a.sequence - b.sequence);
      this.found.length = MAX_REPORTED_BREAKS;
    }
  }

  finish(): FilteredReport {
    return { recordsChecked: this.checked, breaks: [...this.found].sort((a, b) => a.sequence - b.sequence).slice(0, MAX_REPORTED_BREAKS) };
  }
}
