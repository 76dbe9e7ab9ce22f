// A small cache whose entries expire: what the webhook authenticator and authorizer keep their
// answers in, so that a caller's repeated calls do not each cost a review. Bounded: past
// maxEntries the oldest entry goes (insertion order, refreshed on set), as Kubernetes bounds
// its review caches.
import { type Clock, realClock } from '../clock';

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly maxEntries = 4096,
    private readonly clock: Clock = realClock,
  ) {}

  /** The value of `key` when set less than its TTL ago. */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.clock.now() >= e.expires) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Keeps `value` for `ttlMs` (0 or less: not kept). */
  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (ttlMs <= 0) return;
    this.entries.set(key, { value, expires: this.clock.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
