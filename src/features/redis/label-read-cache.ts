// The label windows transaction batches read, held between store calls. A transaction only
// reads its account's and merchant's label windows; they change only when labels arrive,
// which is rare next to payments, yet every batch read them all from Redis again.
//
// Whoever applies labels sets a fresh random token under one key once it has written them
// (redis-store.ts). A batch that reads label windows reads that token with its states; while it
// is the token the cache was filled under, the held windows are what Redis has (or older only
// by the moment between a label write and its token), so they are not read again. A new token,
// or none (Redis lost its data), drops everything held. Label states are small and few per
// batch; the cache is bounded and also dropped after `maxAgeMs` however quiet the labels.
export const LABEL_VERSION_SUFFIX = 'labels-version';

export class LabelReadCache {
  private token: string | null = null;
  private filledAt = 0;
  private readonly values = new Map<string, Buffer | null>();
  private bytes = 0;

  constructor(
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly maxAgeMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The state held for `key` under the current token (null: Redis had none); undefined when not held. */
  get(key: string): Buffer | null | undefined {
    if (this.token === null || this.now() - this.filledAt > this.maxAgeMs) return undefined;
    return this.values.get(key);
  }

  /**
   * Redis's token, read with (and before) the states of a call: true when it is the one the
   * held states were read under (they may be used); otherwise they are dropped and the cache
   * starts over under this token (none when it is null).
   */
  validate(token: string | null): boolean {
    if (token !== null && token === this.token && this.now() - this.filledAt <= this.maxAgeMs) return true;
    this.clear();
    this.token = token;
    this.filledAt = this.now();
    return false;
  }

  private clear(): void {
    this.values.clear();
    this.bytes = 0;
  }

  /** Holds a state read from Redis under the current token (nothing without one). */
  hold(key: string, value: Buffer | null): void {
    if (this.token === null || this.values.has(key)) return;
    const size = key.length + (value?.length ?? 0) + 64;
    if (this.bytes + size > this.maxBytes) this.clear();
    // A copy: a reply's buffer is a slice of the socket's read chunk, which it would keep alive.
    this.values.set(key, value === null ? null : Buffer.from(value));
    this.bytes += size;
  }
}

/** A fresh token: random, so a Redis that lost its data and a new token can never look alike. */
export function newLabelToken(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
