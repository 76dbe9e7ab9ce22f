// The controller manager: runs the enabled controllers under one leader election (Lease
// kube-system/kube-controller-manager, @k8ts/client's LeaderElector). Each term of leadership
// gets a fresh shared informer factory and fresh controllers; when the term ends (the lease is
// lost, or shutdown) they stop, and the manager campaigns again. Without leader election the
// controllers run at once.
import * as crypto from 'crypto';
import { setMaxListeners } from 'events';
import * as os from 'os';
import {
  type Clientset,
  type Clock,
  type EventRecorder,
  InformerFactory,
  LeaderElector,
  type Logger,
  createEventRecorder,
  realClock,
} from '@k8ts/client';
import type { ControllerContext } from './controller';
import { CONTROLLERS, type ControllerSettings } from './controllers';
import type { ControllerMetrics } from './metrics';

export interface LeaderElectionSettings {
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface ManagerOptions {
  clientset: Clientset;
  /** Names of the controllers to run. */
  controllers: string[];
  settings: ControllerSettings;
  /** Omitted: no leader election, the controllers run at once. */
  leaderElection?: LeaderElectionSettings;
  logger: Logger;
  metrics?: ControllerMetrics;
  clock?: Clock;
  /** This instance's identity in the lease. Default `<hostname>_<uuid>`. */
  identity?: string;
  /** Called when readiness changes: ready when on standby, or leading with synced caches. */
  onReady?(ready: boolean): void;
}

export class ControllerManager {
  readonly identity: string;
  private readonly abort = new AbortController();
  private done?: Promise<void>;
  private leading = false;
  private readonly clock: Clock;

  constructor(private readonly opts: ManagerOptions) {
    this.identity = opts.identity ?? `${os.hostname()}_${crypto.randomUUID()}`;
    this.clock = opts.clock ?? realClock;
  }

  /** True while this instance runs the controllers. */
  isLeader(): boolean {
    return this.leading;
  }

  /** Starts campaigning (or running, without leader election) in the background. */
  start(): void {
    this.done ??= this.loop().catch((err) => this.opts.logger.error({ err: String(err) }, 'controller-manager: stopped on an error'));
  }

  /** Stops the controllers (releasing the lease) and resolves when they have stopped. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    const le = this.opts.leaderElection;
    if (!le) {
      await this.term(signal);
      return;
    }
    // On standby (campaigning) the instance is ready; a term makes it unready until synced.
    this.opts.onReady?.(true);
    const elector = new LeaderElector({
      leases: this.opts.clientset.leases,
      namespace: le.namespace,
      name: le.name,
      identity: this.identity,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      clock: this.clock,
      logger: this.opts.logger,
      callbacks: {
        onStartedLeading: (termSignal) => this.term(termSignal),
        onStoppedLeading: () => {
          if (!signal.aborted) this.opts.onReady?.(true);
        },
        onNewLeader: (id) => {
          if (id !== this.identity) this.opts.logger.info({ leader: id }, 'controller-manager: standing by, another instance leads');
        },
      },
    });
    await elector.runUntilStopped(signal);
  }

  /** One term: informers, controllers, until `signal` aborts. */
  private async term(signal: AbortSignal): Promise<void> {
    const { clientset, logger } = this.opts;
    // Every informer, controller and sleep of the term listens on this one signal.
    setMaxListeners(0, signal);
    this.leading = true;
    this.opts.metrics?.leader.set({ name: this.opts.leaderElection?.name ?? 'none' }, 1);
    this.opts.onReady?.(false);
    const informers = new InformerFactory(clientset, { clock: this.clock, logger });
    const recorders: EventRecorder[] = [];
    const ctx: ControllerContext = {
      clientset,
      informers,
      clock: this.clock,
      logger,
      metrics: this.opts.metrics,
      recorder: (component) => {
        const r = createEventRecorder({ events: clientset.events, component, host: os.hostname(), clock: this.clock, logger });
        recorders.push(r);
        return r;
      },
    };
    try {
      const controllers = this.opts.controllers.map((name) => CONTROLLERS[name](ctx, this.opts.settings));
      logger.info({ controllers: this.opts.controllers }, 'controller-manager: leading; starting informers');
      informers.start(signal);
      if (!(await informers.waitForSync(signal))) return;
      logger.info({}, 'controller-manager: caches synced; controllers running');
      this.opts.onReady?.(true);
      await Promise.all(
        controllers.map((c) =>
          c.run(signal).catch((err) => logger.error({ controller: c.name, err: String(err) }, 'controller-manager: controller failed')),
        ),
      );
    } finally {
      this.leading = false;
      this.opts.metrics?.leader.set({ name: this.opts.leaderElection?.name ?? 'none' }, 0);
      await informers.stop();
      await Promise.all(recorders.map((r) => r.close().catch(() => undefined)));
      logger.info({}, 'controller-manager: controllers stopped');
    }
  }
}
