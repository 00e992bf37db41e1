import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedule } from '../../shared/local/ncrontab';

/** The next `count` occurrences after `from`, as ISO strings. */
function occurrences(expression: string, from: string, count: number): string[] {
  const schedule = parseSchedule(expression);
  const found: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < count; i++) {
    after = schedule.next(after);
    found.push(after.toISOString());
  }
  return found;
}

describe('parseSchedule(...).next', () => {
  it('runs every 10 seconds on the multiples of 10, strictly after the given time', () => {
    assert.deepEqual(occurrences('*/10 * * * * *', '2026-03-01T10:00:00.000Z', 3), [
      '2026-03-01T10:00:10.000Z',
      '2026-03-01T10:00:20.000Z',
      '2026-03-01T10:00:30.000Z',
    ]);
    assert.equal(parseSchedule('*/10 * * * * *').next(new Date('2026-03-01T10:00:09.999Z')).toISOString(), '2026-03-01T10:00:10.000Z');
  });

  it('runs every 5 minutes at second 0, across the hour', () => {
    assert.deepEqual(occurrences('0 */5 * * * *', '2026-03-01T10:52:30Z', 3), [
      '2026-03-01T10:55:00.000Z',
      '2026-03-01T11:00:00.000Z',
      '2026-03-01T11:05:00.000Z',
    ]);
  });

  it('runs at 9:30 on weekdays only (MON-FRI), skipping the weekend', () => {
    // 2026-03-06 is a Friday.
    assert.deepEqual(occurrences('0 30 9 * * MON-FRI', '2026-03-06T09:30:00Z', 2), [
      '2026-03-09T09:30:00.000Z',
      '2026-03-10T09:30:00.000Z',
    ]);
  });

  it('takes a list of values', () => {
    assert.deepEqual(occurrences('0 0 8,12,18 * * *', '2026-03-01T12:00:00Z', 3), [
      '2026-03-01T18:00:00.000Z',
      '2026-03-02T08:00:00.000Z',
      '2026-03-02T12:00:00.000Z',
    ]);
  });

  it('takes a step within a range, and a list mixing ranges and single values', () => {
    assert.deepEqual(occurrences('0 10-30/10 * * * *', '2026-03-01T10:30:00Z', 3), [
      '2026-03-01T11:10:00.000Z',
      '2026-03-01T11:20:00.000Z',
      '2026-03-01T11:30:00.000Z',
    ]);
    assert.deepEqual(occurrences('0 0 1-2,22 * * *', '2026-03-01T02:00:00Z', 3), [
      '2026-03-01T22:00:00.000Z',
      '2026-03-02T01:00:00.000Z',
      '2026-03-02T02:00:00.000Z',
    ]);
  });

  it('reads month and day names in any case, and day-of-week 0 as Sunday', () => {
    // The first Sundays of March and of June 2026 are the 1st and the 7th.
    assert.deepEqual(occurrences('0 0 12 * mar,Jun SUN', '2026-03-28T00:00:00Z', 2), [
      '2026-03-29T12:00:00.000Z',
      '2026-06-07T12:00:00.000Z',
    ]);
    assert.equal(parseSchedule('0 0 12 * 3,6 0').next(new Date('2026-03-28T00:00:00Z')).toISOString(), '2026-03-29T12:00:00.000Z');
  });

  it('requires day-of-month and day-of-week both to match, as NCrontab does (Friday the 13th)', () => {
    // 2026's Fridays the 13th fall in February, March and November.
    assert.deepEqual(occurrences('0 0 0 13 * FRI', '2026-01-01T00:00:00Z', 3), [
      '2026-02-13T00:00:00.000Z',
      '2026-03-13T00:00:00.000Z',
      '2026-11-13T00:00:00.000Z',
    ]);
  });

  it('finds a yearly occurrence and a leap day four years on', () => {
    assert.deepEqual(occurrences('0 0 0 1 1 *', '2026-01-01T00:00:00Z', 2), ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']);
    assert.equal(parseSchedule('0 0 0 29 FEB *').next(new Date('2026-03-01T00:00:00Z')).toISOString(), '2028-02-29T00:00:00.000Z');
  });

  it('says so when a schedule never occurs', () => {
    assert.throws(() => parseSchedule('0 0 0 30 FEB *').next(new Date('2026-01-01T00:00:00Z')), /"0 0 0 30 FEB \*" has no occurrence/);
  });
});

describe('parseSchedule rejects a bad schedule, naming the schedule and the field', () => {
  const cases: Array<[string, RegExp]> = [
    ['0 */5 * * *', /"0 \*\/5 \* \* \*" has 5 fields; it needs 6/],
    ['0 0 0 0 * * *', /has 7 fields; it needs 6/],
    ['', /has 0 fields/],
    ['60 * * * * *', /the second field "60" is invalid: "60" is not a value from 0 to 59/],
    ['0 0 24 * * *', /the hour field "24" is invalid/],
    ['0 0 0 0 * *', /the day-of-month field "0" is invalid: "0" is not a value from 1 to 31/],
    ['0 0 0 * 13 *', /the month field "13" is invalid: "13" is not a value from 1 to 12 or JAN-DEC/],
    ['0 0 0 * * 7', /the day-of-week field "7" is invalid: "7" is not a value from 0 to 6 or SUN-SAT/],
    ['0 0 0 * * MON-FUN', /the day-of-week field "MON-FUN" is invalid: "FUN" is not a value/],
    ['*/0 * * * * *', /the second field "\*\/0" is invalid: the step "0" is not a whole number of at least 1/],
    ['0 */x * * * *', /the minute field "\*\/x" is invalid: the step "x"/],
    ['0 0 10-5 * * *', /the hour field "10-5" is invalid: the range "10-5" runs backwards/],
    ['0 0 1,,2 * * *', /the hour field "1,,2" is invalid: "" is not a value/],
  ];
  for (const [expression, message] of cases) {
    it(`"${expression}"`, () => {
      assert.throws(
        () => parseSchedule(expression),
        (error: Error) => {
          assert.match(error.message, message);
          assert.ok(error.message.includes(`"${expression}"`), error.message);
          return true;
        },
      );
    });
  }
});
