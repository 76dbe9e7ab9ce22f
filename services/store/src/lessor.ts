// Leases. A lease is a record in the metadata bucket ("lease.<id>", a LeaseRecord), not a
// log entry, so granting and refreshing one consumes no revision (as in etcd). Every
// replica keeps a cache of the records through a watch. Each replica checks expiries; to
// revoke, a replica deletes the record with a compare-and-swap on its revision (so only
// one replica wins, and a lease refreshed meanwhile survives), then deletes the lease's keys
// through the log like any other write. Keys left attached to a lease that no longer exists
// (a revocation interrupted by a crash, or a put racing a revocation) are found by a
// periodic sweep and deleted the same way.
import type { Logger } from 'pino';
import { storev1 } from '@k8ts/api';
import { Backend, ConflictError } from './backend';
import { etcdErrors } from './errors';
import { Outcome, PendingChange } from './evaluate';
import { MvccIndex } from './mvcc';
import type { StoreMetrics } from './metrics';
import { Writer } from './writer';

/** etcd's minimum TTL with its default election timeout (1 s): shorter TTLs are raised to it. */
export const MIN_LEASE_TTL = 2;
/** etcd's maximum TTL. */
export const MAX_LEASE_TTL = 9_000_000_000;

interface LeaseState {
  id: number;
  grantedTtl: number;
  expiresAt: number;
  revision: number;
}

export interface LessorDeps {
  backend: Backend;
  index: MvccIndex;
  writer: Writer;
  logger: Logger;
  metrics: StoreMetrics;
  now?: () => number;
  /** How often expiries are checked, ms (default 500). */
  checkIntervalMs?: number;
  /** How often keys of vanished leases are looked for, ms (default 5000). */
  sweepIntervalMs?: number;
}

const keyOf = (id: number) => `lease.${id}`;

export class Lessor {
  private readonly leases = new Map<number, LeaseState>();
  private seen?: Set<number>;
  private timers: NodeJS.Timeout[] = [];
  private readonly revoking = new Set<number>();
  private stopped = false;
  private readonly now: () => number;
  private sub?: { stop(): void };

  constructor(private readonly d: LessorDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Loads the leases; resolves once the cache holds them all. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      let first = true;
      this.sub = this.d.backend.metaWatch('lease.>', {
        begin: () => {
          this.seen = new Set();
        },
        change: (c) => {
          const id = Number(c.key.slice('lease.'.length));
          if (!Number.isSafeInteger(id)) return;
          this.seen?.add(id);
          if (!c.value) {
            this.leases.delete(id);
          } else {
            try {
              const r = storev1.LeaseRecord.decode(c.value);
              this.leases.set(id, { id, grantedTtl: r.grantedTtlSeconds ?? 0, expiresAt: r.expiresUnixMs ?? 0, revision: c.revision });
            } catch (err) {
              this.d.logger.warn({ err, key: c.key }, 'undecodable lease record; ignoring it');
            }
          }
          this.d.metrics.leases.set(this.leases.size);
        },
        ready: () => {
          if (this.seen) for (const id of [...this.leases.keys()]) if (!this.seen.has(id)) this.leases.delete(id);
          this.seen = undefined;
          this.d.metrics.leases.set(this.leases.size);
          if (first) {
            first = false;
            this.timers.push(setInterval(() => this.checkExpiries(), this.d.checkIntervalMs ?? 500));
            this.timers.push(setInterval(() => void this.sweep(), this.d.sweepIntervalMs ?? 5000));
            for (const t of this.timers) t.unref();
            resolve();
          }
        },
      });
    });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.sub?.stop();
  }

  private encode(id: number, grantedTtl: number, expiresAt: number): Uint8Array {
    return storev1.LeaseRecord.encode({ id, grantedTtlSeconds: grantedTtl, expiresUnixMs: expiresAt }).finish();
  }

  /** Creates a lease; id 0 lets the store choose. Resolves with the ID and granted TTL. */
  async grant(ttl: number, id: number): Promise<{ id: number; ttl: number }> {
    if (ttl > MAX_LEASE_TTL) throw etcdErrors.leaseTTLTooLarge();
    if (id < 0) throw etcdErrors.leaseNotFound();
    const granted = Math.max(ttl, MIN_LEASE_TTL);
    for (let attempt = 0; attempt < 10; attempt++) {
      const chosen = id || 1 + Math.floor(Math.random() * (Number.MAX_SAFE_INTEGER - 1));
      const expiresAt = this.now() + granted * 1000;
      try {
        const revision = await this.d.backend.metaPut(keyOf(chosen), this.encode(chosen, granted, expiresAt), 0);
        this.leases.set(chosen, { id: chosen, grantedTtl: granted, expiresAt, revision });
        this.d.metrics.leases.set(this.leases.size);
        return { id: chosen, ttl: granted };
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        if (id) throw etcdErrors.leaseExist();
      }
    }
    throw etcdErrors.leaseExist();
  }

  /** The lease's state from the cache, or read from the bucket when the cache has not seen it yet. */
  private async lookup(id: number, fresh = false): Promise<LeaseState | undefined> {
    const cached = this.leases.get(id);
    if (cached && !fresh) return cached;
    const e = await this.d.backend.metaGet(keyOf(id));
    if (!e) {
      this.leases.delete(id);
      return undefined;
    }
    const r = storev1.LeaseRecord.decode(e.value);
    const st = { id, grantedTtl: r.grantedTtlSeconds ?? 0, expiresAt: r.expiresUnixMs ?? 0, revision: e.revision };
    this.leases.set(id, st);
    return st;
  }

  /** Whether a lease exists (for puts that attach keys to it). */
  async exists(id: number): Promise<boolean> {
    const st = await this.lookup(id);
    return !!st && st.expiresAt > this.now();
  }

  /** Refreshes a lease; resolves with its TTL, 0 when it does not exist. */
  async renew(id: number): Promise<number> {
    let st = await this.lookup(id);
    for (let attempt = 0; attempt < 5 && st; attempt++) {
      if (st.expiresAt <= this.now()) return 0;
      const expiresAt = this.now() + st.grantedTtl * 1000;
      try {
        const revision = await this.d.backend.metaPut(keyOf(id), this.encode(id, st.grantedTtl, expiresAt), st.revision);
        const next = { ...st, expiresAt, revision };
        const cur = this.leases.get(id);
        if (!cur || cur.revision < revision) this.leases.set(id, next);
        return st.grantedTtl;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        st = await this.lookup(id, true);
      }
    }
    return 0;
  }

  /** Remaining and granted TTL (seconds), undefined when the lease does not exist. */
  async timeToLive(id: number): Promise<{ ttl: number; granted: number } | undefined> {
    const st = await this.lookup(id);
    if (!st) return undefined;
    const remaining = Math.floor((st.expiresAt - this.now()) / 1000);
    if (remaining < 0) return undefined;
    return { ttl: remaining, granted: st.grantedTtl };
  }

  /** IDs of the live leases. */
  list(): number[] {
    return [...this.leases.keys()].sort((a, b) => a - b);
  }

  /**
   * Revokes a lease: deletes its record (NOT_FOUND if there is none), then its keys.
   * Resolves with the revision of the key deletion, if any.
   */
  async revoke(id: number): Promise<number | undefined> {
    let st = await this.lookup(id, true);
    for (let attempt = 0; st; attempt++) {
      try {
        await this.d.backend.metaDelete(keyOf(id), st.revision);
        break;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt > 5) throw err;
        st = await this.lookup(id, true);
      }
    }
    if (!st) throw etcdErrors.leaseNotFound();
    this.leases.delete(id);
    this.d.metrics.leases.set(this.leases.size);
    return this.deleteKeys(id);
  }

  /** Deletes every key attached to a lease, as one write (one revision). */
  async deleteKeys(id: number): Promise<number | undefined> {
    const { index } = this.d;
    const keys = index.keysOfLease(id);
    if (keys.length === 0) return undefined;
    const single = keys.length === 1 ? keys[0] : undefined;
    return this.d.writer.write<number | undefined>({
      singleKey: single,
      evaluate: (): Outcome => {
        const current = single !== undefined ? [single].filter((k) => index.get(k)?.lease === id) : index.keysOfLease(id);
        const changes: PendingChange[] = current.map((k) => {
          const v = index.get(k)!;
          return { type: 'delete', keyStr: k, key: v.key, value: Buffer.alloc(0), lease: 0, create: 0, version: 0 };
        });
        return { succeeded: true, responses: [], changes, basis: index.rev };
      },
      answer: (_o, rev) => rev,
    });
  }

  /** Revokes leases whose time is up (the replica that wins the record's CAS deletes the keys). */
  private checkExpiries(): void {
    if (this.stopped) return;
    const now = this.now();
    for (const st of this.leases.values()) {
      if (st.expiresAt > now || this.revoking.has(st.id)) continue;
      this.revoking.add(st.id);
      void (async () => {
        try {
          await this.d.backend.metaDelete(keyOf(st.id), st.revision);
          this.leases.delete(st.id);
          this.d.metrics.leases.set(this.leases.size);
          this.d.metrics.leaseExpired.inc();
          this.d.logger.info({ lease: st.id }, 'lease expired; revoking it');
          await this.deleteKeys(st.id);
        } catch (err) {
          if (err instanceof ConflictError) {
            // Renewed or revoked by someone else: refresh the cache entry.
            await this.lookup(st.id, true).catch(() => undefined);
          } else this.d.logger.warn({ err, lease: st.id }, 'lease expiry failed; will retry');
        } finally {
          this.revoking.delete(st.id);
        }
      })();
    }
  }

  /** Deletes keys still attached to leases that no longer exist. */
  private async sweep(): Promise<void> {
    if (this.stopped) return;
    for (const id of this.d.index.leasesInUse()) {
      if (this.leases.has(id) || this.revoking.has(id)) continue;
      try {
        if (await this.lookup(id)) continue;
        this.revoking.add(id);
        this.d.logger.info({ lease: id, keys: this.d.index.keysOfLease(id).length }, 'deleting keys of a lease that no longer exists');
        await this.deleteKeys(id);
      } catch (err) {
        this.d.logger.warn({ err, lease: id }, 'sweep of orphaned lease keys failed; will retry');
      } finally {
        this.revoking.delete(id);
      }
    }
  }
}
