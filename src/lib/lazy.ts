// A value built on first use. Schemas are objects with many closures, and a run touches only
// a few of them; building them all when a module loads costs start time for nothing.

export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
