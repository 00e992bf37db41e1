import type { AuditHead } from '../../domain/audit';
import { ChangeRequestStatus, type WaitingChangeRequest } from '../../domain/changeRequest';
import { domainOf } from '../../domain/names';
import type { DirectoryCommit } from '../../application/ports/directory';
import { rowKeys } from './rowKeys';

/** How a cached entry may be kept: `absent` also keeps "no such row"; `present` keeps only a value. */
export type Keep = 'present-or-absent' | 'present';

/**
 * What one process knows of the directory as of one version of the head row: the rows its decisions
 * read and its own commits wrote. It is sound because every change to these rows is a commit that
 * rewrites the head under its ETag (If-Match): while the head is still at `version`, nothing here
 * can have changed, and a commit decided on it fails with 412 as soon as another writer moved the
 * head, whereupon the whole cache is dropped. Two kinds of row change outside commits, so only their
 * presence is kept: a change request is created by admission (a cached "absent" would hide it), and
 * a waiting list is appended to by admission (so "nobody waits" is never cached, but the request
 * with the lowest ticket stays first until a commit settles it, which evicts the entry).
 *
 * Keys are the row keys (and, for what is not a row, the prefix read: `address|<domain>|` for
 * whether any address lives in a domain, `pending|<domain>|<user>|` for the request next in line).
 */
export class DirectoryCache {
  private readonly entries = new Map<string, unknown>();
  /** Bumped by every commit applied here. */
  private generation = 0;
  /** The generation at which each key was last changed by a commit: a read that started before it must not be kept. */
  private readonly changedAt = new Map<string, number>();

  constructor(
    public version: string,
    public head: AuditHead,
  ) {}

  /** Prefixes all of whose rows are kept: a key under one that is not kept is a row known to be absent. */
  private readonly whole = new Set<string>();
  /** The read of all rows under a prefix, once per cache (a failed one is forgotten, so it is tried again). */
  private readonly wholeReads = new Map<string, Promise<void>>();

  /**
   * Reads through the cache a row of a kind a deployment has few of (pools): on the first miss,
   * every row under `prefix` is read in one go (`readAll`, which answers undefined when there are
   * too many to keep; then each row is read on its own, as `through` does), and from then on a key
   * under `prefix` that is not kept is absent. Only commits write these rows, so this holds while
   * the head stays at this version, as everything else kept here does.
   */
  async throughWhole<T>(
    key: string,
    prefix: string,
    readAll: () => Promise<Map<string, T> | undefined>,
    read: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    if (!this.entries.has(key) && !this.whole.has(prefix)) await this.readWhole(prefix, readAll);
    if (this.entries.has(key)) return this.entries.get(key) as T | undefined;
    if (this.whole.has(prefix)) return undefined;
    return this.through(key, 'present-or-absent', read);
  }

  private readWhole<T>(prefix: string, readAll: () => Promise<Map<string, T> | undefined>): Promise<void> {
    let reading = this.wholeReads.get(prefix);
    if (!reading) {
      const started = this.generation;
      reading = readAll().then(
        (rows) => {
          if (!rows) return;
          // What a commit changed while this read was in flight is kept as the commit wrote it.
          for (const [key, value] of rows)
            if (!this.entries.has(key) && (this.changedAt.get(key) ?? -1) <= started) this.entries.set(key, value);
          this.whole.add(prefix);
        },
        (error: unknown) => {
          this.wholeReads.delete(prefix);
          throw error;
        },
      );
      this.wholeReads.set(prefix, reading);
    }
    return reading;
  }

  /** Reads through the cache: a miss runs `read`, and keeps its answer as `keep` allows, unless a commit moved the cache meanwhile. */
  async through<T>(key: string, keep: Keep, read: () => Promise<T | undefined>): Promise<T | undefined> {
    // A hit may be undefined: a row known to be absent.
    if (this.entries.has(key)) return this.entries.get(key) as T | undefined;
    const started = this.generation;
    const value = await read();
    const superseded = (this.changedAt.get(key) ?? -1) > started;
    if (!superseded && !this.entries.has(key) && (value !== undefined || keep === 'present-or-absent')) this.entries.set(key, value);
    return value;
  }

  /**
   * Keeps the request an admission in this process just made first in its waiting list (its address's
   * first ticket: nobody was before it, and it stays first until a commit settles it, as any
   * request kept as next in line). Anything already known of the list is kept instead.
   */
  keepFirstInLine(admitted: WaitingChangeRequest): void {
    const key = rowKeys.waitingListOf(admitted.request.sipAddress);
    if (!this.entries.has(key)) this.entries.set(key, admitted);
  }

  private change(key: string, value: unknown): void {
    this.entries.set(key, value);
    this.changedAt.set(key, this.generation);
  }

  private forget(key: string): void {
    this.entries.delete(key);
    this.changedAt.set(key, this.generation);
    // A key no longer kept under a prefix kept whole would read as absent.
    for (const prefix of this.whole) if (key.startsWith(prefix)) this.whole.delete(prefix);
  }

  /** Moves the cache to the version a commit decided on it left, with what the commit wrote. */
  applyCommit(commit: DirectoryCommit, version: string): void {
    this.generation++;
    this.version = version;
    this.head = commit.head;
    for (const write of commit.writes) {
      switch (write.type) {
        case 'putHolder':
          this.change(rowKeys.address(write.holder.sipAddress), write.holder);
          this.change(rowKeys.addressesInDomain(domainOf(write.holder.sipAddress)), true);
          break;
        case 'removeHolder':
          this.change(rowKeys.address(write.sipAddress), undefined);
          // Whether another address still lives in the domain is not known without a read.
          this.forget(rowKeys.addressesInDomain(domainOf(write.sipAddress)));
          break;
        case 'putPool':
          this.change(rowKeys.pool(write.pool.fqdn), write.pool);
          break;
        case 'removePool':
          this.change(rowKeys.pool(write.fqdn), undefined);
          break;
        case 'putDomain':
          this.change(rowKeys.domain(write.domain.name), write.domain);
          break;
        case 'removeDomain':
          this.change(rowKeys.domain(write.name), undefined);
          break;
      }
    }
    for (const request of commit.changeRequests) {
      this.change(rowKeys.changeRequest(request.id), request);
      // A settled request left its waiting list: who is next is read again.
      if (request.request !== null && request.status !== ChangeRequestStatus.accepted)
        this.forget(rowKeys.waitingListOf(request.request.sipAddress));
    }
  }
}
