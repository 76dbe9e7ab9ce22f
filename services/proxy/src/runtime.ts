// The live state of one Service port inside the engine: its current rule, its endpoint
// picker, its counters and its open connections (TCP) and flows (UDP).
import type { Logger } from 'pino';
import { Balancer, type Clock } from './balancer';
import type { EndpointTarget, ServicePortRule } from './rules';
import { countError, type ErrorReason, newStats, type TrafficStats } from './stats';

/** An open TCP connection or UDP flow, as its Service port sees it. */
export interface Flow {
  readonly protocol: 'TCP' | 'UDP';
  /** The endpoint it is forwarded to; undefined while a TCP connection is still choosing. */
  readonly endpoint: EndpointTarget | undefined;
  /** Bytes received from the client so far. */
  bytesIn(): number;
  /** Bytes sent to the client so far. */
  bytesOut(): number;
  /** Ends the flow at once (used for UDP flows whose endpoint is gone). */
  close(): void;
}

/** What connections and flows need from the engine. */
export interface FlowContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  readonly connectAttempts: number;
  readonly forwarding: 'buffers' | 'streams';
  readonly maxReadBuffer: number;
}

export class RuleRuntime {
  rule: ServicePortRule;
  readonly balancer: Balancer;
  readonly stats: TrafficStats = newStats();
  /** Counters per endpoint key; an endpoint's counters go when it leaves the rule. */
  readonly endpointStats = new Map<string, TrafficStats>();
  readonly flows = new Set<Flow>();

  constructor(
    rule: ServicePortRule,
    readonly ctx: FlowContext,
  ) {
    this.rule = rule;
    this.balancer = new Balancer(ctx.clock);
    this.update(rule);
  }

  /**
   * Switches to a new version of the rule. Established TCP connections are left alone; new
   * connections only go to the new endpoints. UDP flows to an endpoint that is gone are
   * closed, so that the client's next datagram starts a flow to a ready endpoint.
   */
  update(rule: ServicePortRule): void {
    this.rule = rule;
    this.balancer.setAffinity(rule.sessionAffinity, rule.affinityTimeoutSeconds);
    this.balancer.setEndpoints(rule.endpoints);
    const keys = new Set(rule.endpoints.map((e) => e.key));
    for (const k of this.endpointStats.keys()) if (!keys.has(k)) this.endpointStats.delete(k);
    for (const k of keys) if (!this.endpointStats.has(k)) this.endpointStats.set(k, newStats());
    for (const f of this.flows) {
      if (f.protocol === 'UDP' && f.endpoint && !keys.has(f.endpoint.key)) f.close();
    }
  }

  /** Counters of an endpoint (detached ones for an endpoint no longer in the rule). */
  endpointCounters(ep: EndpointTarget): TrafficStats {
    let s = this.endpointStats.get(ep.key);
    if (!s) {
      s = newStats();
      if (this.rule.endpoints.some((e) => e.key === ep.key)) this.endpointStats.set(ep.key, s);
    }
    return s;
  }

  opened(flow: Flow): void {
    this.flows.add(flow);
    this.stats.active++;
    this.stats.total++;
  }

  /** The flow reached its endpoint (TCP: connected; UDP: created). */
  connected(ep: EndpointTarget): TrafficStats {
    const s = this.endpointCounters(ep);
    s.active++;
    s.total++;
    return s;
  }

  error(reason: ErrorReason, epStats?: TrafficStats): void {
    countError(this.stats, reason);
    if (epStats) countError(epStats, reason);
  }

  /** The flow is over: its bytes move from live to the totals. */
  closed(flow: Flow, epStats: TrafficStats | undefined): void {
    if (!this.flows.delete(flow)) return;
    const bytesIn = flow.bytesIn();
    const bytesOut = flow.bytesOut();
    this.stats.active--;
    this.stats.bytesIn += bytesIn;
    this.stats.bytesOut += bytesOut;
    if (epStats) {
      epStats.active--;
      epStats.bytesIn += bytesIn;
      epStats.bytesOut += bytesOut;
    }
  }
}
