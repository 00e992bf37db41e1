const turns = new Map<object | string, Promise<unknown>>();

/**
 * Runs `work` after all earlier work with the same key in this process has finished. Writers of one
 * key would otherwise race on a storage ETag and retry; taking turns here spares the losing reads.
 * Across processes the ETag still decides.
 */
export function inTurn<T>(key: object | string, work: () => Promise<T>): Promise<T> {
  const previous = turns.get(key) ?? Promise.resolve();
  const next = previous.then(work, work);
  const done = next.then(() => undefined, () => undefined);
  turns.set(key, done);
  void done.then(() => {
    if (turns.get(key) === done) turns.delete(key);
  });
  return next;
}
