import type { Composition } from '../../shared/composition/compose';

/**
 * Counts the writes the service makes, and says which input made them, for the hostile input
 * suite's "a refused input writes nothing" property.
 *
 * The suite wraps every mutating port of the composition (through `startE2EEnvironment`'s `adapt`)
 * and sends one input at a time. Timers and queue workers keep writing in the background (the
 * re-driver, the checkpoint timer, the worker applying a request an earlier input had accepted), so
 * "a write happened while the input was in flight" would blame the wrong input. Instead each write
 * is attributed by the correlation id it carries: every write of a change request, an audit record,
 * an event or a message carries one, and the suite gives each input its own (`X-Correlation-Id`),
 * unless the input is about that header itself:
 *
 * - a write tagged with an input's own correlation id belongs to that input;
 * - a correlation id the suite did not choose (the service made one up, the header was absent or
 *   hostile) belongs to the input in flight when it was first written, and from then on to that input
 *   (so the worker settling it later is not blamed on a later input); first written while no input
 *   was in flight (the suite's set-up), it is background for good;
 * - a write with no correlation id (a dead letter whose body has none) belongs to the input in
 *   flight, if any: the conservative choice, since HTTP never dead-letters;
 * - the timers' own writes (`addCheckpoint`, purging expired Idempotency-Keys) are background: no
 *   HTTP route makes them.
 */

/** One write: which port method, and the correlation ids it carried. */
export interface Write {
  port: string;
  tags: string[];
}

/** The correlation id the suite gives input `index`; never a value the generators produce. */
export const inputTag = (runId: string, index: number): string => `hostile-${runId}-${index}`;

/** Who made each write: see the module comment for the rules. */
export class WriteLedger {
  private readonly owners = new Map<string, number | undefined>();
  private readonly byInput = new Map<number, Write[]>();
  private inFlight: number | undefined;
  /** Writes no input made (timers, or a worker between inputs on work no input here started). */
  background = 0;

  constructor(private readonly runId: string) {}

  /** Input `index` is being sent. */
  begin(index: number): void {
    this.inFlight = index;
  }

  /** No input is in flight. */
  end(): void {
    this.inFlight = undefined;
  }

  /** The writes attributed to input `index` so far. */
  writesOf(index: number): Write[] {
    return this.byInput.get(index) ?? [];
  }

  /** Every input that wrote, with its writes. */
  allWrites(): Map<number, Write[]> {
    return this.byInput;
  }

  /** Records a write and attributes it. */
  record(port: string, tags: Array<string | undefined>, options: { timerOnly?: boolean } = {}): void {
    const write: Write = { port, tags: tags.filter((tag): tag is string => typeof tag === 'string') };
    if (options.timerOnly) {
      this.background++;
      return;
    }
    const owners = new Set<number>();
    for (const tag of write.tags) {
      const owner = this.ownerOf(tag);
      if (owner !== undefined) owners.add(owner);
    }
    if (write.tags.length === 0 && this.inFlight !== undefined) owners.add(this.inFlight);
    if (owners.size === 0) this.background++;
    for (const owner of owners) this.byInput.set(owner, [...this.writesOf(owner), write]);
  }

  /** The input a correlation id belongs to; undefined for background work (first seen while no input was in flight). */
  private ownerOf(tag: string): number | undefined {
    const prefix = `hostile-${this.runId}-`;
    if (tag.startsWith(prefix)) return Number(tag.slice(prefix.length));
    if (this.owners.has(tag)) return this.owners.get(tag);
    this.owners.set(tag, this.inFlight);
    return this.inFlight;
  }
}

/** The correlation id a dead-lettered message's body carries, if it is a JSON object that has one. */
function correlationIdIn(original: unknown): string | undefined {
  let value = original;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    try {
      value = JSON.parse(value.toString());
    } catch {
      return undefined;
    }
  }
  const id = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).correlationId : undefined;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Wraps the composition's mutating ports so each write is recorded in `ledger` before it is made:
 * Directory.commit, Admissions.admit (when it admits) and purge, RedriveSchedule.postpone,
 * RedriveSchedule.discard, AuditLog.addCheckpoint, AuditLog.markBlobWritten, Outbox.markPublished(Later), MessageBus.send and deadLetter.
 */
export function countingWrites(ledger: WriteLedger): (composition: Composition) => Composition {
  return (composition) => {
    const { directory, admissions, redrives, auditLog, outbox, bus } = composition;
    return {
      ...composition,
      directory: {
        snapshot: (reads, freshness) => directory.snapshot(reads, freshness),
        fits: (commit) => directory.fits(commit),
        commit: async (commit) => {
          const tags = [...commit.changeRequests.map((c) => c.correlationId), ...commit.audit.map((a) => a.correlationId)];
          ledger.record('Directory.commit', tags);
          await directory.commit(commit);
        },
      },
      admissions: {
        admit: async (request, options) => {
          const admission = await admissions.admit(request, options);
          // Only an admission writes; finding the id or the key already taken reads.
          if (admission.outcome === 'admitted') ledger.record('Admissions.admit', [request.correlationId]);
          return admission;
        },
        purgeExpiredIdempotencyKeys: async (now, limit) => {
          const purged = await admissions.purgeExpiredIdempotencyKeys(now, limit);
          if (purged > 0) ledger.record('Admissions.purgeExpiredIdempotencyKeys', [], { timerOnly: true });
          return purged;
        },
      },
      redrives: {
        due: (now, limit) => redrives.due(now, limit),
        discard: async (id) => {
          ledger.record('RedriveSchedule.discard', [], { timerOnly: true });
          await redrives.discard(id);
        },
        postpone: async (entry, redriveAt) => {
          ledger.record('RedriveSchedule.postpone', [entry.changeRequest.correlationId]);
          await redrives.postpone(entry, redriveAt);
        },
      },
      auditLog: {
        head: () => auditLog.head(),
        records: () => auditLog.records(),
        recordsDown: (from, to) => auditLog.recordsDown(from, to),
        record: (sequence) => auditLog.record(sequence),
        checkpoints: (limit) => auditLog.checkpoints(limit),
        addCheckpoint: async (checkpoint, options) => {
          ledger.record('AuditLog.addCheckpoint', [], { timerOnly: true });
          return auditLog.addCheckpoint(checkpoint, options);
        },
        checkpointPage: (limit, cursor) => auditLog.checkpointPage(limit, cursor),
        checkpointsAwaitingBlob: (limit) => auditLog.checkpointsAwaitingBlob(limit),
        markBlobWritten: async (sequence, at) => {
          ledger.record('AuditLog.markBlobWritten', [], { timerOnly: true });
          await auditLog.markBlobWritten(sequence, at);
        },
      },
      outbox: {
        pending: (limit) => outbox.pending(limit),
        markPublished: async (event) => {
          ledger.record('Outbox.markPublished', [event.correlationid]);
          await outbox.markPublished(event);
        },
        markPublishedLater: (event) => {
          ledger.record('Outbox.markPublishedLater', [event.correlationid]);
          outbox.markPublishedLater(event);
        },
      },
      bus: {
        send: async (destination, message) => {
          ledger.record(`MessageBus.send(${destination})`, [message.correlationId]);
          await bus.send(destination, message);
        },
        deadLetter: async (source, letter) => {
          ledger.record(`MessageBus.deadLetter(${source})`, [correlationIdIn(letter.original)]);
          await bus.deadLetter(source, letter);
        },
        // Reads nothing of the directory and writes nothing: not a ledger entry.
        checkReachable: (signal) => bus.checkReachable(signal),
      },
    };
  };
}
