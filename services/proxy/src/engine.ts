// The data plane: applies a snapshot of rules by opening and closing listeners and
// updating each Service port's endpoints, incrementally, without touching established
// connections. Everything but binding new sockets happens synchronously inside apply(), so
// a change of endpoints takes effect for the very next connection.
import pino, { type Logger } from 'pino';
import { type Clock, systemClock } from './balancer';
import { DEFAULT_MAX_READ_BUFFER, type ForwardingMode, MIN_READ_BUFFER, resolveForwardingMode } from './forward';
import type { ListenerState, ProxyListener } from './listener';
import type { EndpointTarget, ListenerSpec, ServicePortRule } from './rules';
import { type FlowContext, RuleRuntime } from './runtime';
import { cloneStats, type TrafficStats } from './stats';
import { TcpListener } from './tcp';
import { UdpListener } from './udp';

export interface EngineOptions {
  logger?: Logger;
  /** Time source of affinity and UDP idle timeouts (tests pass a fake one). */
  clock?: Clock;
  /** 'auto' (default): 'buffers' where this Node.js supports it, else 'streams'. */
  forwarding?: 'auto' | ForwardingMode;
  /** Largest read buffer of one direction of a connection in 'buffers' mode; default 1 MiB. */
  maxReadBuffer?: number;
  /** A UDP flow idle this long is ended; default 30 s. */
  udpIdleTimeoutMs?: number;
  /** How long connecting to an endpoint may take before the next one is tried; default 5 s. */
  connectTimeoutMs?: number;
  /** How many endpoints one connection tries before it is reset; default 3. */
  connectAttempts?: number;
  /** How long after a failed bind it is retried; default 5 s. */
  bindRetryMs?: number;
}

/** A listener as reported by status(). */
export interface ListenerStatus {
  spec: ListenerSpec;
  state: ListenerState;
  error: string;
}

/** One endpoint and its counters, as reported by status(). */
export interface EndpointStatus {
  target: EndpointTarget;
  stats: TrafficStats;
}

/** A Service port as reported by status(): the rule and what became of it. */
export interface RuleStatus {
  rule: ServicePortRule;
  listeners: ListenerStatus[];
  endpoints: EndpointStatus[];
  /** Totals including the live bytes of open connections. */
  stats: TrafficStats;
  affinityClients: number;
}

export class ProxyEngine {
  readonly forwarding: ForwardingMode;
  private readonly ctx: FlowContext;
  private readonly udpIdleTimeoutMs: number;
  private readonly bindRetryMs: number;
  private rules = new Map<string, RuleRuntime>();
  /** Listener id -> the rule that serves it (the first by key when several claim it). */
  private claims = new Map<string, RuleRuntime>();
  private readonly listeners = new Map<string, ProxyListener>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private applies = 0;

  constructor(opts: EngineOptions = {}) {
    this.forwarding = resolveForwardingMode(opts.forwarding);
    this.ctx = {
      clock: opts.clock ?? systemClock,
      logger: opts.logger ?? pino({ level: 'silent' }),
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      connectAttempts: Math.max(1, opts.connectAttempts ?? 3),
      forwarding: this.forwarding,
      maxReadBuffer: Math.max(MIN_READ_BUFFER, opts.maxReadBuffer ?? DEFAULT_MAX_READ_BUFFER),
    };
    this.udpIdleTimeoutMs = opts.udpIdleTimeoutMs ?? 30_000;
    this.bindRetryMs = opts.bindRetryMs ?? 5000;
    const period = Math.max(10, Math.min(1000, this.udpIdleTimeoutMs / 4, this.bindRetryMs / 2));
    this.timer = setInterval(() => this.housekeep(), period);
    this.timer.unref();
  }

  /** How many snapshots were applied. */
  get applyCount(): number {
    return this.applies;
  }

  /**
   * Makes `rules` (a complete snapshot: rules not in it are removed) the engine's rules.
   * Endpoint changes and closed listeners take effect before this returns; the returned
   * promise resolves once every new listener is bound or has failed (see status()).
   * Passing the same rule objects as last time costs a map lookup per rule.
   */
  apply(rules: readonly ServicePortRule[]): Promise<void> {
    if (this.closed) throw new Error('proxy engine is closed');
    this.applies++;
    const next = new Map<string, RuleRuntime>();
    for (const rule of rules) {
      if (next.has(rule.key)) continue;
      let rt = this.rules.get(rule.key);
      if (!rt) rt = new RuleRuntime(rule, this.ctx);
      else if (rt.rule !== rule) {
        if (rt.rule.signature !== rule.signature) rt.update(rule);
        else rt.rule = rule;
      }
      next.set(rule.key, rt);
    }
    this.rules = next;

    // Which rule serves each address: the first claim by key wins, the others report it.
    const claims = new Map<string, RuleRuntime>();
    const ordered = [...next.values()].sort((a, b) => (a.rule.key < b.rule.key ? -1 : a.rule.key > b.rule.key ? 1 : 0));
    for (const rt of ordered) for (const l of rt.rule.listeners) if (!claims.has(l.id)) claims.set(l.id, rt);
    this.claims = claims;

    // Close what is no longer wanted (or has nothing to forward to); re-point the rest.
    for (const [id, lst] of this.listeners) {
      const owner = claims.get(id);
      if (!owner || owner.balancer.size === 0) {
        lst.close();
        this.listeners.delete(id);
        this.ctx.logger.debug({ listener: id }, owner ? 'no ready endpoints: refusing' : 'listener removed');
      } else {
        lst.owner = owner;
      }
    }
    // Open what is new.
    const binds: Promise<void>[] = [];
    for (const [id, owner] of claims) {
      if (owner.balancer.size === 0 || this.listeners.has(id)) continue;
      const spec = owner.rule.listeners.find((l) => l.id === id)!;
      const lst = owner.rule.protocol === 'UDP' ? new UdpListener(spec, owner, this.ctx) : new TcpListener(spec, owner, this.ctx);
      this.listeners.set(id, lst);
      binds.push(lst.open());
    }
    return Promise.all(binds).then(() => undefined);
  }

  /** The current rules with listener states, endpoints and counters, sorted by key. */
  status(): RuleStatus[] {
    const out: RuleStatus[] = [];
    const ordered = [...this.rules.values()].sort((a, b) => (a.rule.key < b.rule.key ? -1 : a.rule.key > b.rule.key ? 1 : 0));
    for (const rt of ordered) out.push(this.statusOf(rt));
    return out;
  }

  /** The status of one rule by key, or undefined. */
  ruleStatus(key: string): RuleStatus | undefined {
    const rt = this.rules.get(key);
    return rt ? this.statusOf(rt) : undefined;
  }

  private statusOf(rt: RuleRuntime): RuleStatus {
    const rule = rt.rule;
    const listeners: ListenerStatus[] = rule.listeners.map((spec) => {
      const owner = this.claims.get(spec.id);
      if (owner && owner !== rt) {
        return { spec, state: 'error', error: `${spec.id} is also claimed by ${owner.rule.key}, which is served there` };
      }
      const lst = this.listeners.get(spec.id);
      if (!lst) return { spec, state: 'refusing', error: '' };
      return { spec, state: lst.state, error: lst.error };
    });
    const stats = cloneStats(rt.stats);
    const perEndpoint = new Map<string, TrafficStats>();
    for (const ep of rule.endpoints) perEndpoint.set(ep.key, cloneStats(rt.endpointCounters(ep)));
    for (const f of rt.flows) {
      const i = f.bytesIn();
      const o = f.bytesOut();
      stats.bytesIn += i;
      stats.bytesOut += o;
      const es = f.endpoint ? perEndpoint.get(f.endpoint.key) : undefined;
      if (es) {
        es.bytesIn += i;
        es.bytesOut += o;
      }
    }
    return {
      rule,
      listeners,
      endpoints: rule.endpoints.map((target) => ({ target, stats: perEndpoint.get(target.key)! })),
      stats,
      affinityClients: rt.balancer.affinityClients,
    };
  }

  private housekeep(): void {
    if (this.closed) return;
    const now = this.ctx.clock.now();
    for (const rt of this.rules.values()) rt.balancer.sweep();
    for (const lst of this.listeners.values()) {
      if (lst instanceof UdpListener) lst.sweep(now, this.udpIdleTimeoutMs);
      if (lst.state === 'error' && now - lst.retryAt >= this.bindRetryMs) {
        lst.retryAt = now;
        void lst.open();
      }
    }
  }

  /**
   * Closes every listener and stops the engine. With destroyConnections (the default),
   * open TCP connections and UDP flows are ended too; otherwise they run to their end.
   */
  close(opts: { destroyConnections?: boolean } = {}): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const lst of this.listeners.values()) lst.close();
    this.listeners.clear();
    if (opts.destroyConnections ?? true) {
      for (const rt of this.rules.values()) for (const f of [...rt.flows]) f.close();
    }
    this.rules.clear();
    this.claims.clear();
  }
}
