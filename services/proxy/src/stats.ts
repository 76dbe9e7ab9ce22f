// Traffic counters of a Service port and of its endpoints. Plain numbers updated when a
// connection starts and ends (never per chunk): bytes of live connections are read from
// their sockets when someone asks (admin API, metrics scrape).

/** Why a connection counted as an error (the `reason` label of k8ts_proxy_errors_total). */
export type ErrorReason =
  /** A connection arrived while the Service port had no ready endpoint. */
  | 'no_endpoints'
  /** No endpoint could be connected to (refused, unreachable, timed out). */
  | 'connect'
  /** The endpoint's side failed (reset) after the connection was established. */
  | 'endpoint'
  /** The client's side failed (reset) after the connection was accepted. */
  | 'client';

export const ERROR_REASONS: ErrorReason[] = ['no_endpoints', 'connect', 'endpoint', 'client'];

export interface TrafficStats {
  active: number;
  total: number;
  bytesIn: number;
  bytesOut: number;
  errors: number;
  errorsByReason: Record<ErrorReason, number>;
}

export function newStats(): TrafficStats {
  return {
    active: 0,
    total: 0,
    bytesIn: 0,
    bytesOut: 0,
    errors: 0,
    errorsByReason: { no_endpoints: 0, connect: 0, endpoint: 0, client: 0 },
  };
}

export function countError(stats: TrafficStats, reason: ErrorReason): void {
  stats.errors++;
  stats.errorsByReason[reason]++;
}

export function cloneStats(s: TrafficStats): TrafficStats {
  return { ...s, errorsByReason: { ...s.errorsByReason } };
}
