import { checkpointAuditLog } from '../application/auditIntegrity';
import { redrive, type RedriveReport } from '../application/redrive';
import type { AuditCheckpoint } from '../domain/auditVerification';
import { container } from '../container';

/** The re-drive timer's work: see application/redrive.ts. A failure is thrown, so the host logs it; the next tick tries again. */
export async function runRedrive(): Promise<RedriveReport> {
  return redrive(await container());
}

/** The checkpoint timer's work: signs the audit head if the log grew (nothing without AUDIT_SIGNING_KEY). */
export async function runAuditCheckpoint(): Promise<AuditCheckpoint | undefined> {
  return checkpointAuditLog(await container());
}
