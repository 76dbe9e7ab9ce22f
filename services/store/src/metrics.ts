// The store's own metrics, registered in the kit server's registry (prefix store_).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface StoreMetrics {
  writes: Counter<'kind' | 'result'>;
  conflicts: Counter<'kind'>;
  applied: Counter<'result'>;
  revision: Gauge;
  compactRevision: Gauge;
  applyLag: Gauge;
  watchers: Gauge;
  watchStreams: Gauge;
  watchEvents: Counter;
  leases: Gauge;
  leaseExpired: Counter;
  barrierSeconds: Histogram;
  purged: Counter<'kind'>;
}

/** Creates the metrics; registers them when a registry is given (else they are free-standing). */
export function createStoreMetrics(registry?: Registry): StoreMetrics {
  const registers = registry ? [registry] : [];
  return {
    writes: new Counter({
      name: 'store_writes_total',
      help: 'Writes by kind (single: one key on its subject; multi: <prefix>.txn) and result (committed, noop: nothing to change, aborted: too many conflicts).',
      labelNames: ['kind', 'result'],
      registers,
    }),
    conflicts: new Counter({
      name: 'store_cas_conflicts_total',
      help: 'Compare-and-swap conflicts: subject (JetStream per-subject check), global (JetStream last-sequence check), guard (entry void at apply time).',
      labelNames: ['kind'],
      registers,
    }),
    applied: new Counter({
      name: 'store_applied_messages_total',
      help: 'Log messages applied to the index, by result (applied, void, invalid).',
      labelNames: ['result'],
      registers,
    }),
    revision: new Gauge({ name: 'store_revision', help: 'The revision (stream sequence) this replica has applied.', registers }),
    compactRevision: new Gauge({ name: 'store_compact_revision', help: 'The compact revision.', registers }),
    applyLag: new Gauge({
      name: 'store_apply_lag_revisions',
      help: 'How far this replica was behind the stream head at its last check (revisions).',
      registers,
    }),
    watchers: new Gauge({ name: 'store_watchers', help: 'Active watchers.', registers }),
    watchStreams: new Gauge({ name: 'store_watch_streams', help: 'Open Watch streams.', registers }),
    watchEvents: new Counter({ name: 'store_watch_events_sent_total', help: 'Watch events sent to clients.', registers }),
    leases: new Gauge({ name: 'store_leases', help: 'Live leases.', registers }),
    leaseExpired: new Counter({ name: 'store_lease_expirations_total', help: 'Leases this replica revoked because they expired.', registers }),
    barrierSeconds: new Histogram({
      name: 'store_barrier_seconds',
      help: 'Time to confirm this replica is up to date before a linearizable read.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    }),
    purged: new Counter({
      name: 'store_purge_operations_total',
      help: 'Physical compaction operations on the stream (void, subject, txn).',
      labelNames: ['kind'],
      registers,
    }),
  };
}
