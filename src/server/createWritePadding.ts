/*
 * A Redis that is full (`maxmemory` with `noeviction`) refuses a write only when it is already
 * over `maxmemory`, checked before each write. The handler writes a room's lock, calls CAS, then
 * swaps the lock for the entry. A lock much smaller than the entry leaves the entry's memory free
 * while CAS is called, and a flood of other rooms' locks takes it: the entry write is refused
 * after the CAS call was made, a call for nothing. A lock as long as an entry keeps that memory
 * for it: deleting the lock gives back what the entry takes. So every JSON object this store
 * writes is padded with spaces (JSON ignores trailing whitespace) to the longest value it has
 * seen, and read back without them.
 */

/** Padding stops here: an entry longer than that (a token of several kB) is written as it is. */
export const MAX_PADDED_LENGTH = 8_192;

function isJsonObject(value: string): boolean {
  return value.startsWith('{') && value.endsWith('}');
}

export interface WritePadding {
  /** `value` with trailing spaces up to the longest value seen; only JSON objects are padded. */
  pad(value: string): string;
  /** What `pad` was given: a JSON object's trailing spaces removed; any other value as it is. */
  unpad(value: string): string;
  /** Counts a value read from the store (another server's entry) towards the length to pad to. */
  learn(value: string): void;
}

export function createWritePadding(): WritePadding {
  let target = 0;

  function learn(value: string): void {
    if (isJsonObject(value) && value.length > target) target = Math.min(value.length, MAX_PADDED_LENGTH);
  }

  return {
    learn,
    pad(value) {
      learn(value);
      return isJsonObject(value) && value.length < target ? value + ' '.repeat(target - value.length) : value;
    },
    unpad(value) {
      let end = value.length;
      while (end > 0 && value.charCodeAt(end - 1) === 32) end -= 1;
      if (end === value.length) return value;
      const trimmed = value.slice(0, end);
      return isJsonObject(trimmed) ? trimmed : value;
    },
  };
}
