import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from '../../../shared/application/keyedMutex';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedMutex', () => {
  it('runs work of one key one at a time, in order, and work of other keys alongside', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const work = (name: string) => async () => {
      events.push(`${name} start`);
      await tick();
      events.push(`${name} end`);
      return name;
    };

    const results = await Promise.all([
      mutex.runExclusive('a', work('a1')),
      mutex.runExclusive('a', work('a2')),
      mutex.runExclusive('b', work('b1')),
    ]);

    assert.deepEqual(results, ['a1', 'a2', 'b1']);
    const at = (event: string) => events.indexOf(event);
    assert.ok(at('a1 end') < at('a2 start'), `a2 waits for a1: ${events.join(', ')}`);
    assert.ok(at('b1 start') < at('a1 end'), `b1 runs alongside a1: ${events.join(', ')}`);
  });

  it('lets the next work of a key run when the one before it failed, and forgets idle keys', async () => {
    const mutex = new KeyedMutex();

    const failed = mutex.runExclusive('a', () => Promise.reject(new Error('boom')));
    const next = mutex.runExclusive('a', async () => 'ran');

    await assert.rejects(failed, /boom/);
    assert.equal(await next, 'ran');
    await tick();
    assert.equal(mutex.busyKeys, 0);
  });
});
