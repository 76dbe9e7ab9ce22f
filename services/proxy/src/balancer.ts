// Choosing an endpoint for a new connection: round robin over the ready endpoints, and
// ClientIP session affinity on top of it. Pure logic over a clock, so it is unit tested
// with a fake one.
import type { EndpointTarget, SessionAffinity } from './rules';

/** Milliseconds from an arbitrary origin; only differences matter. */
export interface Clock {
  now(): number;
}

/** The real clock: monotonic milliseconds. */
export const systemClock: Clock = { now: () => performance.now() };

interface AffinityEntry {
  endpoint: EndpointTarget;
  /** When the client last started or ended a connection (or sent a UDP datagram). */
  lastUsed: number;
}

/**
 * Round robin over a Service port's ready endpoints, evenly: the n-th pick (without
 * affinity) is endpoint n mod N. Replacing the endpoint list keeps the position, so a change
 * does not send a burst to the first endpoint.
 */
export class RoundRobin {
  private list: EndpointTarget[] = [];
  private next = 0;

  get endpoints(): readonly EndpointTarget[] {
    return this.list;
  }

  set(endpoints: EndpointTarget[]): void {
    this.list = endpoints;
    if (this.next >= endpoints.length) this.next = 0;
  }

  /** The next endpoint, skipping those whose key is in `exclude`; undefined when none is left. */
  pick(exclude?: ReadonlySet<string>): EndpointTarget | undefined {
    const n = this.list.length;
    for (let i = 0; i < n; i++) {
      const ep = this.list[this.next];
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      if (!exclude?.has(ep.key)) return ep;
    }
    return undefined;
  }
}

/**
 * The endpoint picker of one Service port: round robin, plus ClientIP session affinity when
 * configured. With affinity, a client IP keeps going to the endpoint it was last sent to as
 * long as that endpoint is ready and the client has not been idle (no connection started or
 * ended) for longer than the timeout; otherwise it gets the next round-robin endpoint, which
 * becomes its new affinity.
 */
export class Balancer {
  private readonly rr = new RoundRobin();
  private byKey = new Map<string, EndpointTarget>();
  private affinity: SessionAffinity = 'None';
  private timeoutMs = 0;
  private readonly clients = new Map<string, AffinityEntry>();

  constructor(private readonly clock: Clock) {}

  get endpoints(): readonly EndpointTarget[] {
    return this.rr.endpoints;
  }

  get size(): number {
    return this.rr.endpoints.length;
  }

  /** Client IPs with a live affinity entry (expired ones not yet swept may be counted). */
  get affinityClients(): number {
    return this.clients.size;
  }

  /** Replaces the ready endpoints. Affinity to an endpoint that is gone is forgotten. */
  setEndpoints(endpoints: EndpointTarget[]): void {
    this.rr.set(endpoints);
    this.byKey = new Map(endpoints.map((e) => [e.key, e]));
    for (const [ip, entry] of this.clients) {
      const current = this.byKey.get(entry.endpoint.key);
      if (!current) this.clients.delete(ip);
      else entry.endpoint = current;
    }
  }

  /** Sets the affinity mode; changing it (or its timeout) forgets every client. */
  setAffinity(mode: SessionAffinity, timeoutSeconds: number): void {
    const timeoutMs = mode === 'ClientIP' ? timeoutSeconds * 1000 : 0;
    if (mode === this.affinity && timeoutMs === this.timeoutMs) return;
    this.affinity = mode;
    this.timeoutMs = timeoutMs;
    this.clients.clear();
  }

  /**
   * The endpoint for a new connection from `clientIP`, or undefined when there is none
   * (every endpoint is excluded, or there are none). `exclude` holds endpoint keys that
   * already failed for this connection.
   */
  pick(clientIP: string, exclude?: ReadonlySet<string>): EndpointTarget | undefined {
    if (this.affinity !== 'ClientIP') return this.rr.pick(exclude);
    const now = this.clock.now();
    const entry = this.clients.get(clientIP);
    if (entry && now - entry.lastUsed <= this.timeoutMs && !exclude?.has(entry.endpoint.key)) {
      entry.lastUsed = now;
      return entry.endpoint;
    }
    const ep = this.rr.pick(exclude);
    if (!ep) return undefined;
    if (entry) {
      entry.endpoint = ep;
      entry.lastUsed = now;
    } else {
      this.clients.set(clientIP, { endpoint: ep, lastUsed: now });
    }
    return ep;
  }

  /** Marks the client active now (a connection of it ended, or it sent a UDP datagram). */
  touch(clientIP: string, endpoint: EndpointTarget): void {
    if (this.affinity !== 'ClientIP') return;
    const entry = this.clients.get(clientIP);
    if (entry && entry.endpoint.key === endpoint.key) entry.lastUsed = this.clock.now();
  }

  /** Forgets clients idle for longer than the timeout; returns how many were forgotten. */
  sweep(): number {
    if (this.affinity !== 'ClientIP') return 0;
    const now = this.clock.now();
    let n = 0;
    for (const [ip, entry] of this.clients) {
      if (now - entry.lastUsed > this.timeoutMs) {
        this.clients.delete(ip);
        n++;
      }
    }
    return n;
  }
}
