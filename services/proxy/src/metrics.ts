// Prometheus metrics of the proxy, in the kit server's registry. Values are read from the
// engine when /metrics is scraped (prom-client collect callbacks), so forwarding never
// touches a metric: the hot path only bumps plain counters (stats.ts).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProxyEngine, RuleStatus } from './engine';
import { ERROR_REASONS } from './stats';

const LABELS = ['namespace', 'name', 'port'] as const;

/** The `port` label of a Service port: its name, or its number when it has none. */
function labelsOf(s: RuleStatus): { namespace: string; name: string; port: string } {
  const r = s.rule;
  return { namespace: r.namespace, name: r.name, port: r.portName || String(r.port) };
}

export interface ProxyMetrics {
  /** Records one sync (rules computed and applied) that took `seconds`. */
  observeSync(seconds: number): void;
}

/** Registers the proxy's metrics in `registry`, reading counters from `engine`. */
export function registerProxyMetrics(registry: Registry, engine: ProxyEngine): ProxyMetrics {
  // One engine.status() per scrape, shared by the collectors below.
  let cached: { at: number; status: RuleStatus[] } | undefined;
  const status = (): RuleStatus[] => {
    const now = Date.now();
    if (!cached || now - cached.at > 100) cached = { at: now, status: engine.status() };
    return cached.status;
  };
  new Gauge({
    name: 'k8ts_proxy_connections_active',
    help: 'Open connections (TCP) and flows (UDP) per Service port.',
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status()) this.set(labelsOf(s), s.stats.active);
    },
  });
  new Counter({
    name: 'k8ts_proxy_connections_total',
    help: 'Connections (TCP) and flows (UDP) accepted per Service port since its rule was created.',
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status()) this.inc(labelsOf(s), s.stats.total);
    },
  });
  new Counter({
    name: 'k8ts_proxy_bytes_total',
    help: 'Bytes forwarded per Service port: direction "in" from clients to endpoints, "out" from endpoints to clients.',
    labelNames: [...LABELS, 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status()) {
        const l = labelsOf(s);
        this.inc({ ...l, direction: 'in' }, s.stats.bytesIn);
        this.inc({ ...l, direction: 'out' }, s.stats.bytesOut);
      }
    },
  });
  new Counter({
    name: 'k8ts_proxy_errors_total',
    help:
      'Failed connections per Service port, by reason: no_endpoints (none ready), connect (no endpoint reachable), ' +
      'endpoint (reset by the endpoint side), client (reset by the client side).',
    labelNames: [...LABELS, 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status()) {
        const l = labelsOf(s);
        for (const reason of ERROR_REASONS) this.inc({ ...l, reason }, s.stats.errorsByReason[reason]);
      }
    },
  });
  new Gauge({
    name: 'k8ts_proxy_endpoints',
    help: 'Ready endpoints per Service port.',
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of status()) this.set(labelsOf(s), s.endpoints.length);
    },
  });
  const sync = new Histogram({
    name: 'k8ts_proxy_sync_duration_seconds',
    help: 'Time to compute and apply the rules after a change of Services or Endpoints (binding excluded).',
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  return { observeSync: (seconds) => sync.observe(seconds) };
}
