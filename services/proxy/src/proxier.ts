// The control loop: Services and Endpoints in, rules out. A change of either marks its
// Service key dirty; a few milliseconds later (so that a burst of changes is applied once)
// the dirty Services' rules are recomputed from the source's current objects and the whole
// snapshot is handed to the engine, which applies only what changed.
import type { Logger } from 'pino';
import type { ProxyEngine } from './engine';
import type { ProxyMetrics } from './metrics';
import { computeServiceRules, type RulesOptions, type ServicePortRule } from './rules';
import type { ServiceSource } from './source';

export interface ProxierOptions {
  rules: RulesOptions;
  /** How long a change waits for more changes before the rules are applied; default 5 ms. */
  debounceMs?: number;
  logger: Logger;
  metrics?: ProxyMetrics;
}

export class Proxier {
  private readonly byService = new Map<string, ServicePortRule[]>();
  private readonly problems = new Map<string, string>();
  private dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private pending: Promise<void> = Promise.resolve();
  private syncs = 0;
  private lastSync: Date | undefined;

  constructor(
    private readonly source: ServiceSource,
    private readonly engine: ProxyEngine,
    private readonly opts: ProxierOptions,
  ) {}

  /** How many times rules were applied. */
  get syncCount(): number {
    return this.syncs;
  }

  /** When rules were last applied. */
  get lastSyncTime(): Date | undefined {
    return this.lastSync;
  }

  /**
   * Starts the source, then applies the rules of everything it holds. Resolves false when
   * the proxier was stopped before the source synced.
   */
  async start(): Promise<boolean> {
    await this.source.start((key) => this.changed(key));
    if (this.stopped) return false;
    this.started = true;
    for (const key of this.source.serviceKeys()) this.dirty.add(key);
    await this.sync();
    return true;
  }

  /** Marks a Service key dirty and schedules a sync. */
  changed(key: string): void {
    this.dirty.add(key);
    if (!this.started || this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync();
    }, this.opts.debounceMs ?? 5);
  }

  /**
   * Recomputes the dirty Services' rules and applies the snapshot now. Resolves once the
   * engine has bound its new listeners.
   */
  sync(): Promise<void> {
    if (this.stopped) return this.pending;
    const t0 = performance.now();
    const keys = this.dirty;
    this.dirty = new Set();
    for (const key of keys) {
      const svc = this.source.getService(key);
      if (!svc) {
        this.byService.delete(key);
        this.problems.delete(key);
        continue;
      }
      const { rules, problems } = computeServiceRules(svc, this.source.getEndpoints(key), this.opts.rules);
      if (rules.length > 0) this.byService.set(key, rules);
      else this.byService.delete(key);
      const text = problems.join('; ');
      if (text !== (this.problems.get(key) ?? '')) {
        if (text) this.opts.logger.warn({ service: key, problems }, 'service ports the proxy cannot serve');
        this.problems.set(key, text);
      }
    }
    const all: ServicePortRule[] = [];
    for (const rules of this.byService.values()) all.push(...rules);
    const bound = this.engine.apply(all);
    this.syncs++;
    this.lastSync = new Date();
    this.opts.metrics?.observeSync((performance.now() - t0) / 1000);
    this.opts.logger.debug({ services: keys.size, rules: all.length }, 'rules applied');
    this.pending = bound;
    return bound;
  }

  /** Resolves when the last sync's listeners are bound and no sync is scheduled. */
  async settled(): Promise<void> {
    while (!this.stopped && (this.timer || this.dirty.size > 0)) {
      if (!this.timer) await this.sync();
      else await new Promise((r) => setTimeout(r, 1));
    }
    await this.pending;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.source.stop();
  }
}
