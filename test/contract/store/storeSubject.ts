import assert from 'node:assert/strict';
import type { ServiceDependencies } from '../../../shared/application/dependencies';
import { ValidationError } from '../../../shared/domain/errors';

/** Every storage role port of one deployment, as the composition root hands them to the use cases. */
export type StorePorts = Pick<
  ServiceDependencies,
  'directory' | 'admissions' | 'redrives' | 'auditLog' | 'auditSearch' | 'outbox' | 'queries'
>;

/**
 * One store adapter under the contracts: its role ports over one deployment's fresh, empty storage.
 * The contracts arrange data and check results through the ports only; `persisted` is how they see
 * that a refused call wrote nothing, without knowing how the adapter lays its data out.
 */
export interface StoreSubject extends StorePorts {
  /** Everything stored for this deployment; two reads are deepEqual exactly when nothing was written between them. */
  persisted(): Promise<unknown>;
  /** The ports of another deployment that shares this one's storage. */
  anotherDeployment(): Promise<StorePorts>;
}

/** A fresh subject: each test makes its own, so no test sees another's data and any one can run alone. */
export type MakeStoreSubject = () => Promise<StoreSubject>;

/** Asserts that a listing refused a cursor it did not issue: ValidationError on `#/cursor`. */
export async function assertRefusesCursor(listing: Promise<unknown>): Promise<void> {
  await assert.rejects(listing, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.deepEqual(error.errors, [{ pointer: '#/cursor', detail: 'must be a cursor returned by a previous page' }]);
    return true;
  });
}

/** Every page of a paged listing, following its cursors to the end. */
export async function allPages<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    pages.push(next.items);
    cursor = next.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return pages;
}
