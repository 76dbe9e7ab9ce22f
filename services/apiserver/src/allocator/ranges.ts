// Service IP and node port ranges, and the store keys that record who holds which value
// (serviceIPKey, nodePortKey: the store's key layout is @k8ts/machinery's).
//
// Every allocated value is one key in the store, created with a create_revision == 0 compare
// in the same transaction that writes the Service (and deleted in the transaction that
// deletes it or gives the value up). Two apiserver replicas picking the same value therefore
// cannot both succeed: the loser's transaction fails, it picks again (for a server-picked
// value) or reports "provided IP is already allocated" (for a user-chosen one).
import { randomInt } from 'crypto';
import { ConfigError } from '@k8ts/kit';
import { nodePortKey, serviceIPKey } from '@k8ts/machinery';
import type { Allocators } from '../strategies/types';

function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** An IPv4 service CIDR. The network address, the first address (reserved for the API's own
 * service, as in Kubernetes) and the broadcast address are never handed out. */
export class ServiceIPRange {
  readonly cidr: string;
  readonly base: number;
  readonly size: number;

  constructor(cidr: string) {
    const m = /^(.+)\/(\d{1,2})$/.exec(cidr);
    const ip = m ? ipToInt(m[1]) : undefined;
    const bits = m ? Number(m[2]) : NaN;
    if (ip === undefined || !(bits >= 8 && bits <= 30)) {
      throw new ConfigError(`invalid service IP range ${JSON.stringify(cidr)}: must be an IPv4 CIDR with a prefix of 8 to 30 bits, e.g. 127.96.0.0/16`, {
        flag: 'service-cluster-ip-range',
        value: cidr,
      });
    }
    this.size = 2 ** (32 - bits);
    this.base = Math.floor(ip / this.size) * this.size;
    this.cidr = `${intToIp(this.base)}/${bits}`;
  }

  contains(ip: string): boolean {
    const n = ipToInt(ip);
    return n !== undefined && n >= this.base && n < this.base + this.size;
  }

  /** Whether ip may be allocated: inside the range and not the network, first or broadcast address. */
  allocatable(ip: string): boolean {
    const n = ipToInt(ip);
    if (n === undefined) return false;
    const off = n - this.base;
    return off >= 2 && off < this.size - 1;
  }

  /** How many addresses can be handed out. */
  get capacity(): number {
    return this.size - 3;
  }

  /** The address at an offset among the allocatable ones (0 .. capacity-1). */
  at(i: number): string {
    return intToIp(this.base + 2 + i);
  }
}

export class PortRange {
  constructor(
    readonly min: number,
    readonly max: number,
  ) {}

  static parse(text: string): PortRange {
    const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2]) : NaN;
    if (!(lo >= 1 && hi <= 65535 && lo <= hi)) {
      throw new ConfigError(`invalid node port range ${JSON.stringify(text)}: must be <min>-<max> within 1-65535, e.g. 30000-32767`, {
        flag: 'service-node-port-range',
        value: text,
      });
    }
    return new PortRange(lo, hi);
  }

  contains(port: number): boolean {
    return port >= this.min && port <= this.max;
  }

  get size(): number {
    return this.max - this.min + 1;
  }

  toString(): string {
    return `${this.min}-${this.max}`;
  }
}

/**
 * Picks values for one write attempt. `taken` tells whether a key is currently held (from the
 * apiserver's view of the allocation keys: possibly stale, which the store transaction makes
 * harmless); `exclude` holds values that collided in earlier attempts of the same write.
 * Candidates are drawn at random, so concurrent writers rarely collide, then scanned linearly
 * when random draws keep hitting taken values.
 */
export function makeAllocators(
  ips: ServiceIPRange,
  ports: PortRange,
  taken: (key: string) => boolean,
  exclude: { ips: Set<string>; ports: Set<number> } = { ips: new Set(), ports: new Set() },
): Allocators {
  const pickedIPs = new Set<string>();
  const pickedPorts = new Set<number>();
  const freeIP = (ip: string) => !pickedIPs.has(ip) && !exclude.ips.has(ip) && !taken(serviceIPKey(ip));
  const freePort = (p: number) => !pickedPorts.has(p) && !exclude.ports.has(p) && !taken(nodePortKey(p));
  return {
    serviceIPRange: ips,
    nodePortRange: ports,
    pickServiceIP() {
      for (let i = 0; i < 32; i++) {
        const ip = ips.at(randomInt(ips.capacity));
        if (freeIP(ip)) {
          pickedIPs.add(ip);
          return ip;
        }
      }
      const start = randomInt(ips.capacity);
      for (let i = 0; i < ips.capacity; i++) {
        const ip = ips.at((start + i) % ips.capacity);
        if (freeIP(ip)) {
          pickedIPs.add(ip);
          return ip;
        }
      }
      return undefined;
    },
    pickNodePort() {
      for (let i = 0; i < 32; i++) {
        const p = ports.min + randomInt(ports.size);
        if (freePort(p)) {
          pickedPorts.add(p);
          return p;
        }
      }
      const start = randomInt(ports.size);
      for (let i = 0; i < ports.size; i++) {
        const p = ports.min + ((start + i) % ports.size);
        if (freePort(p)) {
          pickedPorts.add(p);
          return p;
        }
      }
      return undefined;
    },
  };
}
