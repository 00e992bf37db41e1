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
