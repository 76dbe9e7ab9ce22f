// The controller-manager's own metrics, registered in the kit server's registry: reconcile
// latency and failures per controller and queue, and whether this instance leads. The
// workqueues report workqueue_depth, workqueue_adds_total and workqueue_retries_total
// themselves (by queue name: '<controller>' or '<controller>-<queue>').
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface ControllerMetrics {
  readonly registry: Registry;
  reconcileDuration: Histogram<'controller' | 'queue'>;
  reconcileErrors: Counter<'controller' | 'queue'>;
  reconciles: Counter<'controller' | 'queue'>;
  leader: Gauge<'name'>;
}

function reuse<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** The metrics in `registry` (made once; later calls return the same metrics). */
export function controllerMetrics(registry: Registry): ControllerMetrics {
  return {
    registry,
    reconcileDuration: reuse(
      registry,
      'controller_reconcile_duration_seconds',
      () =>
        new Histogram({
          name: 'controller_reconcile_duration_seconds',
          help: 'Time one reconcile of a key took, by controller and queue.',
          labelNames: ['controller', 'queue'],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30],
          registers: [registry],
        }),
    ),
    reconcileErrors: reuse(
      registry,
      'controller_reconcile_errors_total',
      () =>
        new Counter({
          name: 'controller_reconcile_errors_total',
          help: 'Reconciles that failed (the key is retried with backoff), by controller and queue.',
          labelNames: ['controller', 'queue'],
          registers: [registry],
        }),
    ),
    reconciles: reuse(
      registry,
      'controller_reconcile_total',
      () =>
        new Counter({
          name: 'controller_reconcile_total',
          help: 'Reconciles run, by controller and queue.',
          labelNames: ['controller', 'queue'],
          registers: [registry],
        }),
    ),
    leader: reuse(
      registry,
      'leader_election_master_status',
      () =>
        new Gauge({
          name: 'leader_election_master_status',
          help: '1 while this instance holds the leader lease, 0 otherwise.',
          labelNames: ['name'],
          registers: [registry],
        }),
    ),
  };
}
