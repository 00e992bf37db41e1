import { GENESIS_HEAD, hashAuditRecord, type AuditHead, type AuditRecord } from './audit';
import { SigningAlgorithm, signatureVerifies, type VerificationKey } from './signingKeys';

/** How a log can fail to be the one that was written. */
export const BreakKind = {
  /** A record's content no longer hashes to its own hash: it was edited. */
  contentAltered: 'content_altered',
  /** A record's previousHash is not its predecessor's hash. */
  linkBroken: 'link_broken',
  /** Sequence numbers are missing: records were deleted. */
  recordMissing: 'record_missing',
  /** The record stored at a position carries another sequence number: records were moved. */
  outOfOrder: 'out_of_order',
  /** The head (what the next record links to) disagrees with the newest record. */
  headMismatch: 'head_mismatch',
  /** A signed checkpoint names a different hash for its record: the log was rewritten from an earlier point. */
  checkpointMismatch: 'checkpoint_mismatch',
  /** A checkpoint's signature does not verify with the key its key id names. */
  checkpointForged: 'checkpoint_forged',
  /** A checkpoint names a key the verifier does not know, so its signature cannot be checked. */
  checkpointKeyUnknown: 'checkpoint_key_unknown',
  /** A copy of the checkpoints kept elsewhere (a witness) holds one this copy lacks: a checkpoint was deleted. */
  checkpointMissing: 'checkpoint_missing',
} as const;
export type BreakKind = (typeof BreakKind)[keyof typeof BreakKind];

/** One place where the log does not fit. */
export interface ChainBreak {
  sequence: number;
  kind: BreakKind;
  detail: string;
}

/** A signed statement that the log had `sequence` records ending in `hash` at `time`. */
export interface AuditCheckpoint {
  sequence: number;
  hash: string;
  time: string;
  /**
   * The id of the key that signed (a local key's JWK thumbprint, a Key Vault key's versioned URI).
   * Absent on checkpoints made before key ids: those are v1, signed by the local Ed25519 key.
   */
  keyId?: string;
  /** How it was signed (EdDSA or ES256); absent exactly when keyId is. */
  algorithm?: SigningAlgorithm;
  /** Base64 signature over checkpointStatement(). */
  signature: string;
}

/**
 * A checkpoint's six signed members only, in the contract's order: what a copy of it (an event's
 * data, a witness line, an API answer without its unsigned `witnesses`) carries.
 */
export function signedCheckpoint(checkpoint: AuditCheckpoint): AuditCheckpoint {
  const { sequence, hash, time, keyId, algorithm, signature } = checkpoint;
  return { sequence, hash, time, keyId, algorithm, signature };
}

/** The key that signs a checkpoint: its id and algorithm are part of what it signs. */
export interface CheckpointSigningKey {
  keyId: string;
  algorithm: SigningAlgorithm;
}

/** The keys a verifier checks checkpoints with. */
export interface CheckpointKeys {
  /** The keys the checkpoints name, by key id; an id missing here is unknown to the verifier. */
  byId: ReadonlyMap<string, VerificationKey>;
  /**
   * The keys checkpoints made before key ids (v1) may have been signed with: the Ed25519 keys known
   * (the local key, retired ones given as verify-only keys). One that verifies a v1 checkpoint suffices.
   */
  legacy: readonly VerificationKey[];
}

/** What the verifier found. */
export interface VerificationReport {
  intact: boolean;
  recordsChecked: number;
  head: AuditHead;
  /** The break with the lowest sequence number: where the log stops being trustworthy. */
  firstBreak: ChainBreak | null;
  /** Every break found, lowest sequence first (at most MAX_REPORTED_BREAKS). */
  breaks: ChainBreak[];
  checkpoints: {
    checked: number;
    newest: { sequence: number; time: string; keyId: string | null } | null;
    /** Whether the verifier had keys to check signatures with (without any, only the hashes are compared). */
    signingKey: 'configured' | 'not configured';
    /** How many checkpoints each key id signed (null: v1 checkpoints, made before key ids). */
    byKey: Array<{ keyId: string | null; checkpoints: number }>;
  };
  /** Set by a verification run (GET /api/audit/verify, POST /api/audit/verifications), not by the plain full walk. */
  mode?: 'incremental' | 'full';
  /** The lowest sequence the run walked (1 for a full run; the record after the previous verification's end otherwise). */
  verifiedFrom?: number;
  /** The signed verification record an incremental run started from, or null (a full run). */
  basedOn?: { id: string; sequence: number } | null;
  /** Why a run asked to be incremental was full (no signer, no earlier verification, a forged record, ...); null otherwise. */
  fullBecause?: string | null;
}

const MAX_REPORTED_BREAKS = 50;

/**
 * The exact bytes a checkpoint signs. v2 (every checkpoint with a key id) covers the key id and the
 * algorithm too, so a signature cannot be re-labelled as another key's or another algorithm's; the
 * fields are a JSON array, so no value can run into the next. v1 is what checkpoints made before key
 * ids signed, kept so they still verify.
 */
export function checkpointStatement(checkpoint: Omit<AuditCheckpoint, 'signature'>): Buffer {
  if (checkpoint.keyId === undefined && checkpoint.algorithm === undefined) {
    return Buffer.from(`pchat-audit-checkpoint/v1\n${checkpoint.sequence}\n${checkpoint.hash}\n${checkpoint.time}`, 'utf8');
  }
  const fields = [checkpoint.keyId ?? null, checkpoint.algorithm ?? null, checkpoint.sequence, checkpoint.hash, checkpoint.time];
  return Buffer.from(`pchat-audit-checkpoint/v2\n${JSON.stringify(fields)}`, 'utf8');
}

/** What a checkpoint of the head states, before it is signed by `key`. */
export function unsignedCheckpoint(head: AuditHead, time: string, key: CheckpointSigningKey): Omit<AuditCheckpoint, 'signature'> {
  return { sequence: head.sequence, hash: head.hash, time, keyId: key.keyId, algorithm: key.algorithm };
}

/**
 * Why a checkpoint's signature does not hold, or undefined when it does: the key its key id names
 * (a v1 checkpoint: the legacy key) must be known, of the checkpoint's algorithm, and verify it.
 */
export function checkpointSignatureBreak(checkpoint: AuditCheckpoint, keys: CheckpointKeys): ChainBreak | undefined {
  const at = `the checkpoint at record ${checkpoint.sequence}`;
  const key = checkpoint.keyId === undefined ? legacyKeyOf(checkpoint, keys.legacy) : keys.byId.get(checkpoint.keyId);
  if (!key) {
    const detail =
      checkpoint.keyId === undefined
        ? `${at} was signed before key ids (v1) by the local Ed25519 key, and no such key is configured`
        : `${at} names key ${checkpoint.keyId}, which the verifier does not know`;
    return { sequence: checkpoint.sequence, kind: BreakKind.checkpointKeyUnknown, detail };
  }
  const algorithm = checkpoint.algorithm ?? (checkpoint.keyId === undefined ? SigningAlgorithm.edDsa : undefined);
  const signature = Buffer.from(checkpoint.signature, 'base64');
  if (algorithm === undefined || !signatureVerifies(key, algorithm, checkpointStatement(checkpoint), signature)) {
    return { sequence: checkpoint.sequence, kind: BreakKind.checkpointForged, detail: `${at} is not signed by key ${key.keyId}` };
  }
  return undefined;
}

/**
 * The legacy key a v1 checkpoint is checked with: the one of them that verifies it, else the first
 * (whose failure then reports it forged), or undefined when there is none.
 */
function legacyKeyOf(checkpoint: AuditCheckpoint, legacy: readonly VerificationKey[]): VerificationKey | undefined {
  const statement = checkpointStatement(checkpoint);
  const signature = Buffer.from(checkpoint.signature, 'base64');
  return legacy.find((key) => signatureVerifies(key, SigningAlgorithm.edDsa, statement, signature)) ?? legacy[0];
}

/** A stored record and the position its storage key gives it. */
export interface PositionedRecord {
  position: number;
  record: AuditRecord;
}

/**
 * Where a walk is, between two slices of it: enough to continue it in another process (a
 * verification runs in slices, each persisted, so any instance can take the next one).
 */
export interface ChainVerifierState {
  /** The position the next record should have. */
  expected: number;
  /** The last record added: its position and the hash it links to. */
  newer: { position: number; previousHash: string } | null;
  checked: number;
  breaks: ChainBreak[];
}

/** Where a walk stops: the last record a previous verification found intact (the start of the log by default). */
export const LOG_START = { sequence: 0, hash: GENESIS_HEAD.hash };

/**
 * Checks a log walked newest first, one record at a time, in constant memory (plus the checkpoints):
 * every record hashes to its hash, links to the one before it, sits at its own position, none is
 * missing, the head matches the newest, and every checkpoint is genuine and names its record's hash.
 *
 * An incremental walk stops above `boundary` (the end of a previous verification) and checks that the
 * lowest record walked links to the boundary's hash; checkpoints at or below it were compared with
 * their records by the run that verified past them, and only their signatures are checked. A walk can be cut into slices: state() is where it is, and a new
 * verifier built with `resume` continues it.
 */
export class ChainVerifier {
  private readonly found: ChainBreak[] = [];
  private expected: number;
  private newer: { position: number; previousHash: string } | undefined;
  private checked = 0;
  private readonly checkpointsBySequence: Map<number, AuditCheckpoint>;
  private readonly boundary: { sequence: number; hash: string };

  constructor(
    private readonly head: AuditHead,
    private readonly checkpoints: AuditCheckpoint[],
    keys: CheckpointKeys | undefined,
    options: { boundary?: { sequence: number; hash: string }; resume?: ChainVerifierState } = {},
  ) {
    this.boundary = options.boundary ?? LOG_START;
    this.expected = head.sequence;
    this.checkpointsBySequence = new Map(checkpoints.map((checkpoint) => [checkpoint.sequence, checkpoint]));
    if (options.resume) {
      this.expected = options.resume.expected;
      this.newer = options.resume.newer ?? undefined;
      this.checked = options.resume.checked;
      this.found.push(...options.resume.breaks);
    }
    // Without keys only the hashes the checkpoints name are compared (a log with signing off).
    if (keys) {
      for (const checkpoint of checkpoints) {
        const broken = checkpointSignatureBreak(checkpoint, keys);
        if (broken) this.report(broken.sequence, broken.kind, broken.detail);
      }
    }
  }

  /** The next record, newest first. Records appended after the head was read are not this check's business. */
  add({ position, record }: PositionedRecord): void {
    if (position > this.head.sequence) return;
    this.checked++;
    if (this.newer === undefined && (position !== this.head.sequence || record.hash !== this.head.hash)) {
      this.report(
        position,
        BreakKind.headMismatch,
        `the head names record ${this.head.sequence} (${this.head.hash.slice(0, 12)}…), the newest stored record is ${position} (${record.hash.slice(0, 12)}…)`,
      );
    }
    if (position < this.expected) this.reportMissing(position + 1, this.expected);
    if (record.sequence !== position) this.report(position, BreakKind.outOfOrder, `position ${position} holds record ${record.sequence}`);
    const { hash, ...content } = record;
    if (hashAuditRecord(content) !== hash)
      this.report(position, BreakKind.contentAltered, `record ${position}'s content does not hash to its hash`);
    if (this.newer && this.newer.position === position + 1 && this.newer.previousHash !== hash) {
      this.report(this.newer.position, BreakKind.linkBroken, `record ${this.newer.position} does not link to record ${position}`);
    }
    this.checkAgainstCheckpoint(position, hash);
    this.newer = { position, previousHash: record.previousHash };
    this.expected = position - 1;
  }

  /** A break found outside the walk (the record a previous verification ended at has changed, say). */
  reportBreak(broken: ChainBreak): void {
    this.report(broken.sequence, broken.kind, broken.detail);
  }

  /** Where the walk is, to continue it later (see ChainVerifierState). */
  state(): ChainVerifierState {
    return { expected: this.expected, newer: this.newer ?? null, checked: this.checked, breaks: [...this.found] };
  }

  /** The report, once every record down to the boundary has been added. */
  finish(): Omit<VerificationReport, 'checkpoints'> & { checkpointsChecked: number } {
    if (this.expected > this.boundary.sequence) this.reportMissing(this.boundary.sequence + 1, this.expected);
    if (this.newer?.position === this.boundary.sequence + 1 && this.newer.previousHash !== this.boundary.hash) {
      const detail =
        this.boundary.sequence === 0
          ? 'record 1 does not link to the start of the log'
          : `record ${this.newer.position} does not link to record ${this.boundary.sequence} as the previous verification found it`;
      this.report(this.newer.position, BreakKind.linkBroken, detail);
    }
    for (const checkpoint of this.checkpoints) {
      if (checkpoint.sequence > this.head.sequence)
        this.report(
          checkpoint.sequence,
          BreakKind.checkpointMismatch,
          `a checkpoint signed record ${checkpoint.sequence}, beyond the head ${this.head.sequence}: the log was cut back`,
        );
    }
    const breaks = [...this.found].sort((a, b) => a.sequence - b.sequence);
    return {
      intact: breaks.length === 0,
      recordsChecked: this.checked,
      head: this.head,
      firstBreak: breaks[0] ?? null,
      breaks: breaks.slice(0, MAX_REPORTED_BREAKS),
      checkpointsChecked: this.checkpoints.length,
    };
  }

  private checkAgainstCheckpoint(position: number, hash: string): void {
    const checkpoint = this.checkpointsBySequence.get(position);
    if (checkpoint && checkpoint.hash !== hash) {
      this.report(
        position,
        BreakKind.checkpointMismatch,
        `the checkpoint of ${checkpoint.time} signed record ${position} as ${checkpoint.hash.slice(0, 12)}…; it is now ${hash.slice(0, 12)}…`,
      );
    }
  }

  private reportMissing(from: number, to: number): void {
    this.report(from, BreakKind.recordMissing, from === to ? `record ${from} is missing` : `records ${from}-${to} are missing`);
  }

  private report(sequence: number, kind: BreakKind, detail: string): void {
    this.found.push({ sequence, kind, detail });
    // A log broken everywhere must not fill memory: only the lowest breaks are reported.
    if (this.found.length > 2 * MAX_REPORTED_BREAKS) {
      this.found.sort((a, b) => a.sequence - b.sequence);
      this.found.length = MAX_REPORTED_BREAKS;
    }
  }
}
