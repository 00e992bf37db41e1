import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { auditTimeline } from '../../../../shared/application/audit/auditTimeline';
import type { AuditQuery } from '../../../../shared/application/ports/auditSearch';
import type { AuditOutcome, AuditRecord } from '../../../../shared/domain/audit';
import { isKnownTimeZone } from '../../../../shared/domain/auditTimeline';

const APPLIED: AuditOutcome = { status: 'applied' };
const REJECTED: AuditOutcome = { status: 'rejected', code: 'sip_address_held_by_endpoint', message: 'held' };
const FAILED: AuditOutcome = { status: 'failed', code: 'processing_failed', message: 'failed' };

/** Records newest first, as the log streams them, with only the fields the timeline reads. */
function log(entries: Array<[string, AuditOutcome]>) {
  const records = entries.map(([time, outcome], i) => ({ sequence: entries.length - i, time, outcome }) as AuditRecord);
  const asked: AuditQuery[] = [];
  let read = 0;
  return {
    asked,
    read: () => read,
    auditSearch: {
      async *export(query: AuditQuery) {
        asked.push(query);
        for (const record of records) {
          read += 1;
          yield record;
        }
      },
    },
  };
}

// 03:30 UTC on the 15th is still the 14th in New York (UTC-5 in January): the zone decides the day.
const NEWEST_FIRST: Array<[string, AuditOutcome]> = [
  ['2031-01-15T16:00:00.000Z', FAILED],
  ['2031-01-15T15:00:00.000Z', APPLIED],
  ['2031-01-15T04:59:59.999Z', REJECTED],
  ['2031-01-15T03:30:00.000Z', APPLIED],
  ['2031-01-14T05:00:00.000Z', APPLIED],
];

describe('the audit timeline', () => {
  it('counts applied, rejected and failed per day of the time zone asked for, oldest day first', async () => {
    const source = log(NEWEST_FIRST);
    const timeline = await auditTimeline(
      { ...source, limits: { auditExportRecords: 100 } },
      { subject: 'sip:a@contoso.com' },
      'America/New_York',
    );

    assert.deepEqual(timeline, {
      timeZone: 'America/New_York',
      days: [
        { day: '2031-01-14', applied: 2, rejected: 1, failed: 0 },
        { day: '2031-01-15', applied: 1, rejected: 0, failed: 1 },
      ],
      recordsCounted: 5,
      complete: true,
      countedSince: '2031-01-14T05:00:00.000Z',
    });
    assert.deepEqual(source.asked, [{ subject: 'sip:a@contoso.com' }], 'the filters reach the search unchanged');
  });

  it('cuts the same records into UTC days when asked for UTC', async () => {
    const timeline = await auditTimeline({ ...log(NEWEST_FIRST), limits: { auditExportRecords: 100 } }, {}, 'UTC');
    assert.deepEqual(
      timeline.days.map((d) => [d.day, d.applied, d.rejected, d.failed]),
      [
        ['2031-01-14', 1, 0, 0],
        ['2031-01-15', 2, 1, 1],
      ],
    );
  });

  it('stops at the bound, says it is incomplete and how far back it counted, and reads no further', async () => {
    const source = log(NEWEST_FIRST);
    const timeline = await auditTimeline({ ...source, limits: { auditExportRecords: 3 } }, {}, 'America/New_York');

    assert.deepEqual([timeline.recordsCounted, timeline.complete, timeline.countedSince], [3, false, '2031-01-15T04:59:59.999Z']);
    assert.deepEqual(timeline.days, [
      { day: '2031-01-14', applied: 0, rejected: 1, failed: 0 },
      { day: '2031-01-15', applied: 1, rejected: 0, failed: 1 },
    ]);
    assert.equal(source.read(), 4, 'one record past the bound is read to learn there are more, then the stream is closed');
  });

  it('answers an empty timeline for no records', async () => {
    const timeline = await auditTimeline({ ...log([]), limits: { auditExportRecords: 3 } }, {}, 'UTC');
    assert.deepEqual(timeline, { timeZone: 'UTC', days: [], recordsCounted: 0, complete: true, countedSince: null });
  });

  it('knows IANA zones and refuses made-up ones', () => {
    assert.deepEqual(['UTC', 'America/New_York', 'Asia/Kolkata', 'Mars/Olympus_Mons', 'Europe/../../etc'].map(isKnownTimeZone), [
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});
