/**
 * Serialises the commits and deletes of one object path in this process, so that the object
 * rename and its metadata write happen together with respect to other writers of that key.
 */
const tails = new Map<string, Promise<void>>();

export async function withKeyLock<T>(lockKey: string, task: () => Promise<T>): Promise<T> {
  const previous = tails.get(lockKey) ?? Promise.resolve();
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => done);
  tails.set(lockKey, tail);
  await previous;
  try {
    return await task();
  } finally {
    release();
    if (tails.get(lockKey) === tail) tails.delete(lockKey);
  }
}
