import {
  BreakKind,
  ChainVerifier,
  LOG_START,
  type AuditCheckpoint,
  type ChainBreak,
  type ChainVerifierState,
  type VerificationReport,
} from '../../domain/auditVerification';
import { ConcurrencyError, ErrorCode, ServiceError, UnavailableError, UnprocessableError } from '../../domain/errors';
import {
  VerificationMode,
  unsignedVerificationRecord,
  verificationRecordHolds,
  verificationStatement,
  type AuditVerificationRecord,
} from '../../domain/verificationRecord';
import type { ServiceDependencies } from '../dependencies';
import type { StoredVerification, VerificationOperation, VerificationPlan, VersionedVerification } from '../ports/auditVerifications';
import { checkpointSummary, witnessedCheckpoints } from './verifyAuditLog';

/**
 * Verification that scales. A run walks the audit log newest first down to where the previous
 * verification ended (incremental) or to its start (full), checks every checkpoint, and when the log
 * is intact stores a signed record of how far it got, which the next incremental run starts from.
 *
 * A large walk is cut into slices, each bounded in records and time and persisted (its position, the
 * boundary and the breaks so far), so a run never has to fit in one HTTP request (230 s in Azure) or
 * one function invocation: the POST starts it, the advanceAuditVerifications timer continues it on
 * whichever instance fires, and a lease on the operation's row (taken with its ETag) keeps two
 * instances from working one operation at once.
 */

/** What running verifications needs. */
export type VerificationRunDependencies = Pick<
  ServiceDependencies,
  'auditLog' | 'auditWitness' | 'auditVerifications' | 'checkpointSigner' | 'checkpointKeys' | 'clock' | 'ids'
>;

/** How much one slice may do, and how long its lease lasts (longer than a slice, so a live slice never loses it). */
export interface SliceLimits {
  records: number;
  ms: number;
  leaseMs: number;
}

/** 20,000 records or 30 s per slice, whichever comes first; a lease of 2 minutes outlasts any slice. */
export const DEFAULT_SLICE: SliceLimits = { records: 20_000, ms: 30_000, leaseMs: 120_000 };

/** The most records GET /api/audit/verify walks inside one request; more answers verification_too_large. */
export const SYNCHRONOUS_RECORD_LIMIT = 20_000;

/** A new operation, running, not started: the POST stores it and starts its first slice. */
export async function startVerification(
  deps: VerificationRunDependencies,
  request: { mode: VerificationMode; requestedBy: string },
): Promise<VerificationOperation> {
  const now = deps.clock.now().toISOString();
  const operation: StoredVerification = {
    id: deps.ids.next(),
    mode: request.mode,
    status: 'running',
    requestedBy: request.requestedBy,
    createdAt: now,
    updatedAt: now,
    progress: { recordsChecked: 0, recordsToCheck: 0 },
    result: null,
    error: null,
    work: { plan: null, walk: null, lease: null },
  };
  await deps.auditVerifications.create(operation);
  return publicView(operation);
}

/** An operation as its caller sees it, or undefined. */
export async function getVerification(deps: VerificationRunDependencies, id: string): Promise<VerificationOperation | undefined> {
  const stored = await deps.auditVerifications.get(id);
  return stored ? publicView(stored.operation) : undefined;
}

/** What one call to advanceVerification did. */
export type AdvanceOutcome = 'advanced' | 'finished' | 'busy' | 'not running';

/**
 * Advances one operation by one slice, if no other instance holds it: takes the lease (a write under
 * the row's ETag: of two instances only one succeeds), walks a slice, and writes the progress back
 * under the lease's ETag (so an instance whose lease expired and was taken over writes nothing).
 */
export async function advanceVerification(
  deps: VerificationRunDependencies,
  id: string,
  owner: string,
  slice: SliceLimits = DEFAULT_SLICE,
): Promise<AdvanceOutcome> {
  const leased = await takeLease(deps, id, owner, slice);
  if (typeof leased === 'string') return leased;
  const { operation, etag } = leased;
  try {
    const plan = operation.work.plan ?? (await planRun(deps, operation.mode));
    const started = operation.work.walk ?? (await startWalk(deps, plan));
    const { walk, done } = await walkSlice(deps, plan, started, slice);
    const now = deps.clock.now().toISOString();
    const progress = { recordsChecked: walk.checked, recordsToCheck: plan.head.sequence - plan.boundary.sequence };
    if (!done) {
      await deps.auditVerifications.replace({ ...operation, updatedAt: now, progress, work: { plan, walk, lease: null } }, etag);
      return 'advanced';
    }
    const result = await finishRun(deps, operation.id, plan, walk);
    await deps.auditVerifications.replace(
      { ...operation, status: 'succeeded', updatedAt: now, progress, result, work: { plan, walk, lease: null } },
      etag,
    );
    return 'finished';
  } catch (error) {
    // Another instance took over (our lease expired): its work counts, ours is dropped.
    if (error instanceof ConcurrencyError) return 'busy';
    // Storage or Key Vault briefly away: the lease expires and the next timer tries again.
    if (error instanceof UnavailableError) throw error;
    const code = error instanceof ServiceError ? String(error.code as unknown) : 'internal_error';
    const message = error instanceof Error ? error.message : String(error);
    await deps.auditVerifications.replace(
      {
        ...operation,
        status: 'failed',
        updatedAt: deps.clock.now().toISOString(),
        error: { code, message },
        work: { ...operation.work, lease: null },
      },
      etag,
    );
    return 'finished';
  }
}

/** Advances an operation slice after slice until it finishes, another instance holds it, or `untilMs` (epoch ms) passes. */
export async function advanceUntilDone(
  deps: VerificationRunDependencies,
  id: string,
  owner: string,
  untilMs: number,
  slice: SliceLimits = DEFAULT_SLICE,
): Promise<AdvanceOutcome> {
  for (;;) {
    const outcome = await advanceVerification(deps, id, owner, slice);
    if (outcome !== 'advanced' || deps.clock.now().getTime() >= untilMs) return outcome;
  }
}

/**
 * A whole run inside the caller's request (GET /api/audit/verify): refused with
 * verification_too_large when it would walk more than `limit` records, which is the asynchronous
 * operation's job. Answers its report; stores a signed verification record when the log is intact.
 */
export async function verifyNow(
  deps: VerificationRunDependencies,
  mode: VerificationMode,
  limit: number = SYNCHRONOUS_RECORD_LIMIT,
): Promise<VerificationReport> {
  const plan = await planRun(deps, mode);
  const toWalk = plan.head.sequence - plan.boundary.sequence;
  if (toWalk > limit) {
    throw new UnprocessableError(
      ErrorCode.verificationTooLarge,
      `this verification would walk ${toWalk} records, more than the ${limit} one request may; POST /api/audit/verifications runs it in the background`,
      {
        errors: [
          { pointer: '#/full', detail: `a ${plan.mode} verification here walks ${toWalk} records (limit ${limit})`, location: 'query' },
        ],
      },
    );
  }
  const walk = await startWalk(deps, plan);
  const walked = await walkSlice(deps, plan, walk, { records: Number.MAX_SAFE_INTEGER, ms: Number.MAX_SAFE_INTEGER });
  return finishRun(deps, deps.ids.next(), plan, walked.walk);
}

/** The ids of the operations still running (the timer advances each). */
export function runningVerifications(deps: Pick<VerificationRunDependencies, 'auditVerifications'>): Promise<string[]> {
  return deps.auditVerifications.running();
}

function publicView(stored: StoredVerification): VerificationOperation {
  const { work: _work, ...operation } = stored;
  return operation;
}

/** Takes the operation's lease for `owner`, or says why not. */
async function takeLease(
  deps: VerificationRunDependencies,
  id: string,
  owner: string,
  slice: SliceLimits,
): Promise<VersionedVerification | 'busy' | 'not running'> {
  const stored = await deps.auditVerifications.get(id);
  if (!stored || stored.operation.status !== 'running') return 'not running';
  const now = deps.clock.now();
  const lease = stored.operation.work.lease;
  if (lease && lease.owner !== owner && Date.parse(lease.until) > now.getTime()) return 'busy';
  const operation: StoredVerification = {
    ...stored.operation,
    work: { ...stored.operation.work, lease: { owner, until: new Date(now.getTime() + slice.leaseMs).toISOString() } },
  };
  try {
    return { operation, etag: await deps.auditVerifications.replace(operation, stored.etag) };
  } catch (error) {
    if (error instanceof ConcurrencyError) return 'busy';
    throw error;
  }
}

/**
 * Decides what a run walks. An incremental run starts from the latest verification record only when
 * it holds: signed by a key the ring knows, not beyond the head, and the record it ended at still has
 * the hash it had (a log rewritten from an earlier point and re-chained to the head changes it).
 * Otherwise the run is full, and the plan says why.
 */
async function planRun(deps: VerificationRunDependencies, requested: VerificationMode): Promise<VerificationPlan> {
  const [head, [newestCheckpoint]] = await Promise.all([deps.auditLog.head(), deps.auditLog.checkpoints(1)]);
  const full = (fullBecause: string | null, found: ChainBreak | null = null): VerificationPlan => ({
    mode: VerificationMode.full,
    head,
    boundary: LOG_START,
    basedOn: null,
    fullBecause,
    found,
    checkpointsThrough: newestCheckpoint?.sequence ?? 0,
  });
  if (requested === VerificationMode.full) return full(null);
  if (!deps.checkpointSigner)
    return full('no signing key is configured, so no verification record can be signed to start from: every run is full');
  const latest = await deps.auditVerifications.latest();
  if (!latest) return full('no earlier verification is recorded');
  if (!(await recordHolds(deps, latest)))
    return full(
      `the stored verification record ${String(latest.id)} is not signed by a known key (forged or unverifiable), so it is ignored`,
    );
  const through = latest.verifiedThrough;
  if (through.sequence > head.sequence) {
    const detail = `verification ${latest.id} of ${latest.time} found the log intact through record ${through.sequence}; the head is now ${head.sequence}: the log was cut back`;
    return full('the log is shorter than the previous verification found it', {
      sequence: through.sequence,
      kind: BreakKind.recordMissing,
      detail,
    });
  }
  const boundaryRecord = through.sequence === 0 ? undefined : await deps.auditLog.record(through.sequence);
  if (through.sequence > 0 && boundaryRecord?.hash !== through.hash) {
    const now = boundaryRecord ? `it is now ${boundaryRecord.hash.slice(0, 12)}…` : 'it is gone';
    const detail = `verification ${latest.id} of ${latest.time} found record ${through.sequence} as ${through.hash.slice(0, 12)}…; ${now}: the log was rewritten from an earlier point`;
    return full('the record the previous verification ended at has changed', {
      sequence: through.sequence,
      kind: BreakKind.checkpointMismatch,
      detail,
    });
  }
  return {
    mode: VerificationMode.incremental,
    head,
    boundary: through,
    basedOn: { id: latest.id, sequence: through.sequence },
    fullBecause: null,
    found: null,
    checkpointsThrough: newestCheckpoint?.sequence ?? 0,
  };
}

/** Whether a stored verification record is signed by the key its key id names (a malformed one does not hold). */
async function recordHolds(deps: VerificationRunDependencies, record: AuditVerificationRecord): Promise<boolean> {
  if (!deps.checkpointKeys || typeof record !== 'object' || typeof record.keyId !== 'string') return false;
  if (typeof record.verifiedThrough?.sequence !== 'number' || typeof record.verifiedThrough.hash !== 'string') return false;
  return verificationRecordHolds(record, await deps.checkpointKeys.publicKey(record.keyId));
}

/** The checkpoints a run checks: those made before it started, the witness's copies the table lacks included. */
async function checkpointsOf(deps: VerificationRunDependencies, plan: VerificationPlan): Promise<AuditCheckpoint[]> {
  return (await witnessedCheckpoints(deps, plan.checkpointsThrough)).checkpoints;
}

/**
 * The walk's first state: every checkpoint's signature checked and the table compared with the
 * witness. The walk compares each checkpoint above the boundary with its record; those at or below
 * it were compared by the run that verified past them (and a rewrite from below, re-chained up to
 * the head, changes the boundary record's hash, which planRun checks), so an incremental run reads
 * no older record.
 */
async function startWalk(deps: VerificationRunDependencies, plan: VerificationPlan): Promise<ChainVerifierState> {
  const { checkpoints, keys, breaks } = await witnessedCheckpoints(deps, plan.checkpointsThrough);
  const verifier = new ChainVerifier(plan.head, checkpoints, keys, { boundary: plan.boundary });
  for (const broken of [...(plan.found ? [plan.found] : []), ...breaks]) verifier.reportBreak(broken);
  return verifier.state();
}

/** Walks on from `walk` down to the boundary, stopping after `slice` records or milliseconds. */
async function walkSlice(
  deps: VerificationRunDependencies,
  plan: VerificationPlan,
  walk: ChainVerifierState,
  slice: Pick<SliceLimits, 'records' | 'ms'>,
): Promise<{ walk: ChainVerifierState; done: boolean }> {
  const verifier = new ChainVerifier(plan.head, await checkpointsOf(deps, plan), undefined, { boundary: plan.boundary, resume: walk });
  const from = walk.newer ? walk.newer.position - 1 : plan.head.sequence;
  const to = plan.boundary.sequence + 1;
  const deadline = deps.clock.now().getTime() + slice.ms;
  let added = 0;
  if (from >= to) {
    for await (const positioned of deps.auditLog.recordsDown(from, to)) {
      verifier.add(positioned);
      added++;
      // Stopping on the last record would leave an empty slice to do: stop only with more to walk.
      if (positioned.position > to && (added >= slice.records || deps.clock.now().getTime() >= deadline))
        return { walk: verifier.state(), done: false };
    }
  }
  return { walk: verifier.state(), done: true };
}

/** The report of a finished walk; an intact log gets a signed record of how far it was verified (with a signer). */
async function finishRun(
  deps: VerificationRunDependencies,
  id: string,
  plan: VerificationPlan,
  walk: ChainVerifierState,
): Promise<VerificationReport> {
  const checkpoints = await checkpointsOf(deps, plan);
  const verifier = new ChainVerifier(plan.head, checkpoints, undefined, { boundary: plan.boundary, resume: walk });
  const { checkpointsChecked, ...report } = verifier.finish();
  if (report.intact && deps.checkpointSigner && plan.head.sequence > 0) {
    const unsigned = unsignedVerificationRecord(
      id,
      plan.mode,
      { sequence: plan.head.sequence, hash: plan.head.hash },
      deps.clock.now().toISOString(),
      await deps.checkpointSigner.key(),
    );
    const signature = await deps.checkpointSigner.sign(verificationStatement(unsigned));
    await deps.auditVerifications.saveLatest({ ...unsigned, signature: Buffer.from(signature).toString('base64') });
  }
  return {
    ...report,
    checkpoints: checkpointSummary(checkpoints, checkpointsChecked, deps.checkpointKeys !== undefined),
    mode: plan.mode,
    verifiedFrom: plan.boundary.sequence + 1,
    basedOn: plan.basedOn,
    fullBecause: plan.fullBecause,
  };
}
