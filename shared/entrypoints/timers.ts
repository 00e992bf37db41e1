import { redrive, type RedriveReport } from '../application/redrive';
import { container } from '../container';

/** The re-drive timer's work: see application/redrive.ts. A failure is thrown, so the host logs it; the next tick tries again. */
export async function runRedrive(): Promise<RedriveReport> {
  return redrive(await container());
}
