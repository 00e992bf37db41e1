/**
 * Runs work one at a time per key, within this process. Writers of one key (one address's waiting
 * list) would otherwise race on a storage ETag and retry; taking turns here
 * spares the losing reads. Across processes the ETag still decides. One instance per composition:
 * the turns belong to the dependencies that share the storage, not to the module.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after all earlier work with the same key has finished, whether it succeeded or not. */
  runExclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** How many keys have work queued or running (for tests: an idle mutex holds none). */
  get busyKeys(): number {
    return this.tails.size;
  }
}
