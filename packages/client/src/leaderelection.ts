// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection package:
// candidates take a free or expired lease, the leader renews it every retryPeriod, and
// gives up leading when it could not renew within renewDeadline, before the lease expires
// for the others (renewDeadline < leaseDuration). Every write is guarded by the lease's
// resourceVersion, so of two candidates writing at once exactly one wins; the other sees a
// conflict and stays a follower.
import type { coordinationv1 } from '@k8ts/api';
import { realClock, sleep } from './clock';
import type { Clock } from './clock';
import { isAlreadyExists, isConflict, isNotFound, toStatusError } from './errors';
import { noopLogger } from './logger';
import type { Logger } from './logger';
import type { ResourceClient } from './resources';

type Lease = coordinationv1.Lease;

/** The lease operations leader election needs (the clientset's `leases` client fits). */
export type LeaseClient = Pick<ResourceClient<Lease>, 'get' | 'create' | 'update'>;

export interface LeaderCallbacks {
  /**
   * This candidate became the leader. `signal` aborts when it stops leading: stop all
   * leader-only work then. May be async; its result is not awaited by the elector.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** This candidate stopped leading (lost the lease or was stopped). Called once per term. */
  onStoppedLeading?(): void;
  /** The observed leader changed (including to this candidate). Not called when the lease is free. */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  /** The leases client (clientset.leases). */
  leases: LeaseClient;
  /** Where the lease lives, e.g. 'kube-system'. */
  namespace: string;
  /** The lease's name, e.g. 'kube-scheduler'. */
  name: string;
  /** This candidate's unique identity, e.g. `${hostname}_${uuid}`. */
  identity: string;
  /** How long a lease is valid after its last renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long. Default 10 s; must be < leaseDurationMs. */
  renewDeadlineMs?: number;
  /** How often candidates try to acquire and the leader renews. Default 2 s. */
  retryPeriodMs?: number;
  /** Candidates wait retryPeriod * (1 + random * jitter) between attempts. Default 1.2. */
  jitter?: number;
  /** Clear the lease's holder when stopped while leading, so that another candidate takes over at once. Default true. */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  logger?: Logger;
  /** Random numbers in [0, 1), for the jitter. */
  random?: () => number;
}

/** A timestamp as the Lease API carries it: RFC 3339 with microseconds (Kubernetes' MicroTime). */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * One candidate. `run()` campaigns until it leads, leads until it loses the lease or is
 * stopped, then resolves: like Kubernetes components, a process that lost leadership
 * usually exits (or calls run() again to campaign anew).
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  /** The last lease read or written, and when (by our clock) its content was first seen. */
  private observed?: Lease;
  private observedTime = 0;
  private reportedLeader = '';
  private leading = false;

  constructor(private readonly config: LeaderElectionConfig) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('leader election: renewDeadlineMs must be less than leaseDurationMs');
    if (this.retryPeriodMs >= this.renewDeadlineMs) throw new Error('leader election: retryPeriodMs must be less than renewDeadlineMs');
    if (!config.identity) throw new Error('leader election: identity is required');
    this.clock = config.clock ?? realClock;
    this.logger = config.logger ?? noopLogger;
    this.random = config.random ?? Math.random;
  }

  /** True while this candidate holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder of the lease as last observed ('' when free or not yet read). */
  getLeader(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  /**
   * Campaigns, then leads. Resolves after leadership ends (lease lost, or `signal` aborted),
   * or when `signal` aborts before this candidate led.
   */
  async run(signal?: AbortSignal): Promise<void> {
    await this.runTerm(signal ?? new AbortController().signal);
  }

  /**
   * Campaigns and leads term after term until `signal` aborts: a candidate that lost the lease
   * stays a candidate instead of exiting (the scheduler and the controller-manager keep
   * running on standby). Before campaigning again it waits for the ended term's work (the
   * promise onStartedLeading returned) to finish, so that two terms' work never overlaps,
   * then for a retry period. Resolves once `signal` aborted and the last term's work is done.
   */
  async runUntilStopped(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const { work } = await this.runTerm(signal);
      await work;
      if (signal.aborted) return;
      this.logger.warn({ lease: this.leaseName(), identity: this.config.identity }, 'leader election: lost the lease; campaigning again');
      await sleep(this.clock, this.retryPeriodMs, signal);
    }
  }

  /** Starts the leader's work; the promise settles when the work is done and never rejects (failures are logged). */
  private startWork(signal: AbortSignal): Promise<void> {
    try {
      const started = this.config.callbacks.onStartedLeading(signal);
      return Promise.resolve(started).catch((err: unknown) =>
        this.logger.error({ lease: this.leaseName(), err: String(err) }, 'leader election: onStartedLeading failed'),
      );
    } catch (err) {
      this.logger.error({ lease: this.leaseName(), err: String(err) }, 'leader election: onStartedLeading threw');
      return Promise.resolve();
    }
  }

  /** One campaign and, when it wins, one term. Returns the term's work (resolved when there was no term). */
  private async runTerm(stop: AbortSignal): Promise<{ work: Promise<void> }> {
    if (!(await this.acquire(stop))) return { work: Promise.resolve() };
    const term = new AbortController();
    this.leading = true;
    this.logger.info({ lease: this.leaseName(), identity: this.config.identity }, 'leader election: started leading');
    const work = this.startWork(term.signal);
    await this.renew(stop);
    this.leading = false;
    term.abort();
    if (stop.aborted && (this.config.releaseOnCancel ?? true)) await this.release();
    this.logger.info({ lease: this.leaseName(), identity: this.config.identity }, 'leader election: stopped leading');
    try {
      this.config.callbacks.onStoppedLeading?.();
    } catch (err) {
      this.logger.error({ lease: this.leaseName(), err: String(err) }, 'leader election: onStoppedLeading threw');
    }
    return { work };
  }

  private leaseName(): string {
    return `${this.config.namespace}/${this.config.name}`;
  }

  /** Tries every retryPeriod (jittered) until the lease is ours; false when stopped first. */
  private async acquire(stop: AbortSignal): Promise<boolean> {
    for (;;) {
      if (stop.aborted) return false;
      if (await this.tryAcquireOrRenew(stop)) return true;
      const wait = this.retryPeriodMs * (1 + this.random() * (this.config.jitter ?? 1.2));
      await sleep(this.clock, wait, stop);
    }
  }

  /** Renews every retryPeriod; returns when renewing failed for renewDeadline, or when stopped. */
  private async renew(stop: AbortSignal): Promise<void> {
    let lastRenew = this.clock.now();
    for (;;) {
      await sleep(this.clock, this.retryPeriodMs, stop);
      if (stop.aborted) return;
      for (;;) {
        const remaining = lastRenew + this.renewDeadlineMs - this.clock.now();
        if (remaining <= 0) {
          this.logger.warn({ lease: this.leaseName(), identity: this.config.identity }, 'leader election: failed to renew in time');
          return;
        }
        if (await this.tryAcquireOrRenew(stop, remaining)) {
          lastRenew = this.clock.now();
          break;
        }
        if (stop.aborted) return;
        if (this.getLeader() !== this.config.identity && this.getLeader() !== '' && !this.expired()) {
          this.logger.warn({ lease: this.leaseName(), holder: this.getLeader() }, 'leader election: the lease was taken over');
          return;
        }
        await sleep(this.clock, Math.min(this.retryPeriodMs, Math.max(0, lastRenew + this.renewDeadlineMs - this.clock.now())), stop);
        if (stop.aborted) return;
      }
    }
  }

  /** True when the observed lease has expired: by its own record, and by our own observation of it. */
  private expired(): boolean {
    const spec = this.observed?.spec;
    if (!spec?.holderIdentity) return true;
    const now = this.clock.now();
    const duration = (spec.leaseDurationSeconds ?? 0) * 1000;
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    // The record's renewTime says when the holder last renewed, by the holder's clock. The
    // observation time guards against clocks that disagree: a lease is only taken over when
    // we, too, have seen it unchanged for a whole lease duration.
    return renewed + duration < now && this.observedTime + duration < now;
  }

  private observe(lease: Lease): void {
    const previous = this.observed;
    if (!previous || previous.metadata?.resourceVersion !== lease.metadata?.resourceVersion) {
      this.observed = lease;
      this.observedTime = this.clock.now();
    }
    const holder = lease.spec?.holderIdentity ?? '';
    if (!holder) this.reportedLeader = '';
    else if (holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      try {
        this.config.callbacks.onNewLeader?.(holder);
      } catch (err) {
        this.logger.error({ lease: this.leaseName(), err: String(err) }, 'leader election: onNewLeader threw');
      }
    }
  }

  /** One attempt: create the lease, take it over, or renew it. True when this candidate now holds it. */
  private async tryAcquireOrRenew(stop: AbortSignal, deadlineMs?: number): Promise<boolean> {
    const { leases, namespace, name, identity } = this.config;
    const callOpts = { signal: stop, deadlineMs: deadlineMs ?? this.renewDeadlineMs };
    const now = this.clock.now();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let current: Lease;
    try {
      current = await leases.get(name, { namespace, ...callOpts });
    } catch (err) {
      if (!isNotFound(err)) {
        this.logger.warn({ lease: this.leaseName(), err: toStatusError(err).message }, 'leader election: cannot read the lease');
        return false;
      }
      try {
        const created = await leases.create(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { namespace, name },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
          callOpts,
        );
        this.observe(created);
        return true;
      } catch (createErr) {
        if (!isAlreadyExists(createErr)) {
          this.logger.warn({ lease: this.leaseName(), err: toStatusError(createErr).message }, 'leader election: cannot create the lease');
        }
        return false;
      }
    }
    this.observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const ours = holder === identity;
    if (!ours && !this.expired()) return false;
    const updated: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: ours ? spec.acquireTime : microTime(now),
        leaseTransitions: ours ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      this.observe(await leases.update(updated, callOpts));
      return true;
    } catch (err) {
      // A conflict: someone else wrote the lease first (took it, or renewed it).
      if (!isConflict(err)) {
        this.logger.warn({ lease: this.leaseName(), err: toStatusError(err).message }, 'leader election: cannot update the lease');
      }
      return false;
    }
  }

  /** Clears the holder (keeping the transitions count) so that the next candidate need not wait for expiry. */
  private async release(): Promise<void> {
    const lease = this.observed;
    if (!lease || lease.spec?.holderIdentity !== this.config.identity) return;
    const now = this.clock.now();
    try {
      this.observe(
        await this.config.leases.update(
          {
            ...lease,
            spec: {
              ...lease.spec,
              holderIdentity: '',
              leaseDurationSeconds: 1,
              renewTime: microTime(now),
              acquireTime: microTime(now),
            },
          },
          { deadlineMs: this.renewDeadlineMs },
        ),
      );
    } catch (err) {
      this.logger.warn({ lease: this.leaseName(), err: toStatusError(err).message }, 'leader election: cannot release the lease');
    }
  }
}

/** Runs leader election with `config` until leadership ends or `signal` aborts. */
export function runLeaderElection(config: LeaderElectionConfig, signal?: AbortSignal): Promise<void> {
  return new LeaderElector(config).run(signal);
}
