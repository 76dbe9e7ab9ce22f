// The shape every controller shares: informers (from one shared factory) feed keys into
// workqueues; workers take a key and call a reconcile function that reads the current state
// from the caches and converges it. Reconciles are level-triggered: they never trust the
// event that queued the key. A reconcile that throws has its key retried with per-key
// exponential backoff; a reconcile that wants to look again later calls queue.addAfter.
import type { Clientset, Clock, EventRecorder, InformerFactory, Logger } from '@k8ts/client';
import { WorkQueue, isConflict, isNotFound } from '@k8ts/client';
import type { RateLimiter } from '@k8ts/client';
import type { ControllerMetrics } from './metrics';

/** Everything a controller gets from the manager (or from a unit test). */
export interface ControllerContext {
  clientset: Clientset;
  /** The shared informer factory; controllers ask for informers in their constructors. */
  informers: InformerFactory;
  clock: Clock;
  logger: Logger;
  /** An event recorder for a component name such as 'replicaset-controller'. */
  recorder(component: string): EventRecorder;
  /** Metrics, when the manager has a registry (unit tests usually have none). */
  metrics?: ControllerMetrics;
}

/** One workqueue and the function that reconciles its keys. */
export interface ReconcileLoop {
  /** 'replicaset', or '<controller>-<queue>' for controllers with several queues. */
  name: string;
  queue: WorkQueue;
  workers: number;
  reconcile(key: string): Promise<void>;
}

export interface Controller {
  readonly name: string;
  /** Runs the workers (and periodic work) until `signal` aborts; the caches must have synced. */
  run(signal: AbortSignal): Promise<void>;
}

/** A controller made of one or more reconcile loops. */
export abstract class BaseController implements Controller {
  protected readonly loops: ReconcileLoop[] = [];
  protected readonly logger: Logger;

  constructor(
    readonly name: string,
    protected readonly ctx: ControllerContext,
  ) {
    this.logger = ctx.logger;
  }

  /** Adds a reconcile loop with its own queue. */
  protected addLoop(name: string, workers: number, reconcile: (key: string) => Promise<void>, rateLimiter?: RateLimiter): WorkQueue {
    const queue = new WorkQueue({
      name,
      clock: this.ctx.clock,
      logger: this.ctx.logger,
      rateLimiter,
      metrics: this.ctx.metrics ? { registry: this.ctx.metrics.registry } : undefined,
    });
    this.loops.push({ name, queue, workers, reconcile });
    return queue;
  }

  /** Periodic or background work of the controller besides its queues (default: none). */
  protected async background(_signal: AbortSignal): Promise<void> {}

  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const stop = () => {
      for (const l of this.loops) l.queue.shutDown();
    };
    signal.addEventListener('abort', stop, { once: true });
    this.logger.info({ controller: this.name }, 'controller: starting workers');
    try {
      await Promise.all([
        this.background(signal),
        ...this.loops.map((loop) =>
          loop.queue.run(loop.workers, async (key) => {
            // Keys still queued at shutdown are dropped, not reconciled.
            if (signal.aborted) return;
            await this.timedReconcile(loop, key);
          }),
        ),
      ]);
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  private async timedReconcile(loop: ReconcileLoop, key: string): Promise<void> {
    const m = this.ctx.metrics;
    const labels = { controller: this.name, queue: loop.name };
    const end = m?.reconcileDuration.startTimer(labels);
    m?.reconciles.inc(labels);
    try {
      await loop.reconcile(key);
    } catch (err) {
      m?.reconcileErrors.inc(labels);
      // Conflicts and vanished objects are routine with caches that lag: retried quietly.
      const routine = isConflict(err) || isNotFound(err);
      const fields = { controller: this.name, queue: loop.name, key, err: String((err as Error)?.message ?? err) };
      if (routine) this.logger.debug(fields, 'controller: reconcile failed, retrying');
      else this.logger.info(fields, 'controller: reconcile failed, retrying');
      throw err;
    } finally {
      end?.();
    }
  }
}

/** The key of an object: `namespace/name` or `name`. */
export type Key = string;
