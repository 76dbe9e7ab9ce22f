// Store leases for objects with a time to live (Events). Granting one lease per event would
// cost a store round trip per write and one lease per object, so, as Kubernetes' lease
// manager does, a lease is shared by all writes within a short window, with its TTL extended
// by that window: an object lives at least ttl and at most ttl + window.
import type { KV } from '../storage/kv';

export class LeaseManager {
  private current?: { id: string; grantedAt: number };
  private pending?: Promise<string>;
  private readonly windowMs: number;

  constructor(
    private readonly kv: KV,
    private readonly ttlSeconds: number,
  ) {
    // Reuse a lease for a tenth of the TTL, at most a minute.
    this.windowMs = Math.min(60_000, Math.max(1000, (ttlSeconds * 1000) / 10));
  }

  /** A lease id that lives at least ttlSeconds from now. */
  async lease(): Promise<string> {
    const now = Date.now();
    if (this.current && now - this.current.grantedAt < this.windowMs) return this.current.id;
    this.pending ??= this.kv
      .leaseGrant(this.ttlSeconds + Math.ceil(this.windowMs / 1000))
      .then((id) => {
        this.current = { id, grantedAt: now };
        return id;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** Forgets the current lease (after the store said it does not exist). */
  invalidate(): void {
    this.current = undefined;
  }
}
