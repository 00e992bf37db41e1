import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RestError } from '@azure/data-tables';
import type { DirectoryTableClient } from '../../../shared/adapters/tables/partitionTable';
import { createTableStore } from '../../../shared/adapters/tables/tableStore';
import { ConcurrencyError, UnavailableError } from '../../../shared/domain/errors';

/**
 * What the Table adapters make of what the SDK throws: an outage is UnavailableError (503, retry
 * later), a lost race ConcurrencyError, a missing row "none"; anything else is passed through
 * untouched, so that a bug answers 500 and is never told to the caller as "retry later".
 */

/** A table client whose every call fails with `error`. */
function failingWith(error: Error): DirectoryTableClient {
  const fail = () => Promise.reject(error);
  return {
    createTable: fail,
    getEntity: fail,
    createEntity: fail,
    updateEntity: fail,
    deleteEntity: fail,
    submitTransaction: fail,
    listEntities: () => {
      throw error;
    },
  };
}

const readChangeRequest = (error: Error) => createTableStore(failingWith(error), 'default').queries.changeRequest('cr-1');

describe('Table adapters translating SDK errors', () => {
  it('answers "none" for a 404', async () => {
    assert.equal(await readChangeRequest(new RestError('not found', { statusCode: 404 })), undefined);
  });

  it('reports an outage as UnavailableError: a 503, a 500, a request that got no response, a refused connection', async () => {
    const outages = [
      new RestError('busy', { statusCode: 503 }),
      new RestError('broken', { statusCode: 500 }),
      new RestError('socket hang up', { code: 'REQUEST_SEND_ERROR' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:10002'), { code: 'ECONNREFUSED' }),
    ];
    for (const outage of outages) {
      await assert.rejects(readChangeRequest(outage), (error: unknown) => error instanceof UnavailableError && error.cause === outage);
    }
  });

  it('reports a lost ETag race (412) as ConcurrencyError', async () => {
    const race = new RestError('precondition failed', { statusCode: 412 });

    await assert.rejects(readChangeRequest(race), (error: unknown) => error instanceof ConcurrencyError && error.cause === race);
  });

  it('passes a bug through untouched: a TypeError, a 400 the service refused', async () => {
    for (const bug of [new TypeError('cannot read properties of undefined'), new RestError('bad request', { statusCode: 400 })]) {
      await assert.rejects(readChangeRequest(bug), (error: unknown) => error === bug);
    }
  });
});
