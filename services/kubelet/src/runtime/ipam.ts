// Pod IP allocation from the node's pod CIDR (127.244.N.0/24 on one machine: every address of
// 127.0.0.0/8 is loopback on Linux, so a pod IP needs no configuration to be bound).
//
// Like CNI's host-local plugin, each allocation is a file in the state directory named by the
// IP and holding its owner (the pod uid), created with O_EXCL: an IP is never handed out twice
// at once, not even to two kubelets sharing the directory, and allocations survive a kubelet
// restart. Allocation goes round-robin from the last address handed out, so a released IP is
// not reused at once (a client still talking to the old pod does not reach the new one).
import * as fs from 'fs';
import * as path from 'path';

export class IpamExhaustedError extends Error {
  override name = 'IpamExhaustedError';
}

/** '127.244.3.0/24' -> its first and last usable addresses, as numbers. */
export function parseCidr(cidr: string): { first: number; last: number; network: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`invalid pod CIDR ${JSON.stringify(cidr)}: expected an IPv4 CIDR such as 127.244.1.0/24`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix < 8 || prefix > 30) {
    throw new Error(`invalid pod CIDR ${JSON.stringify(cidr)}: octets must be 0-255 and the prefix 8-30`);
  }
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const network = addr - (addr % size);
  // .0 is the network, .1 the gateway (kept free as CNI does), the last the broadcast address.
  return { network, prefix, first: network + 2, last: network + size - 2 };
}

export function ipToString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function ipToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((a, o) => a * 256 + o, 0);
}

export class IpAllocator {
  private readonly range: ReturnType<typeof parseCidr>;
  /** ip -> owner */
  private readonly byIp = new Map<string, string>();
  /** owner -> ip */
  private readonly byOwner = new Map<string, string>();
  private last: number;

  /**
   * @param cidr the node's pod CIDR.
   * @param dir where allocations are kept; without it they live in memory only (sim nodes).
   */
  constructor(
    readonly cidr: string,
    private readonly dir?: string,
  ) {
    this.range = parseCidr(cidr);
    this.last = this.range.last;
    if (dir) this.load(dir);
  }

  /** The number of addresses the range holds. */
  get size(): number {
    return this.range.last - this.range.first + 1;
  }

  private load(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of fs.readdirSync(dir)) {
      const n = ipToNumber(name);
      if (n === undefined || n < this.range.first || n > this.range.last) continue;
      const owner = fs.readFileSync(path.join(dir, name), 'utf8').trim();
      if (owner) this.remember(name, owner);
    }
    try {
      const n = ipToNumber(fs.readFileSync(path.join(dir, 'last_reserved_ip'), 'utf8').trim());
      if (n !== undefined && n >= this.range.first && n <= this.range.last) this.last = n;
    } catch {
      /* first start */
    }
  }

  private remember(ip: string, owner: string): void {
    this.byIp.set(ip, owner);
    this.byOwner.set(owner, ip);
  }

  /** The IP of an owner, or undefined. */
  lookup(owner: string): string | undefined {
    return this.byOwner.get(owner);
  }

  /** Every allocation, ip -> owner. */
  allocations(): Map<string, string> {
    return new Map(this.byIp);
  }

  /** Allocates an IP for owner; the same owner gets the IP it already has. */
  allocate(owner: string): string {
    const existing = this.byOwner.get(owner);
    if (existing) return existing;
    const { first, last } = this.range;
    const size = last - first + 1;
    for (let i = 1; i <= size; i++) {
      const n = first + ((this.last - first + i) % size);
      const ip = ipToString(n);
      if (this.byIp.has(ip)) continue;
      if (this.dir) {
        const file = path.join(this.dir, ip);
        let fd: number;
        try {
          fd = fs.openSync(file, 'wx', 0o600);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          // Taken by someone else sharing the directory: learn it and go on.
          const other = safeRead(file);
          if (other) this.remember(ip, other);
          continue;
        }
        try {
          fs.writeSync(fd, owner);
        } finally {
          fs.closeSync(fd);
        }
        fs.writeFileSync(path.join(this.dir, 'last_reserved_ip'), ip);
      }
      this.last = n;
      this.remember(ip, owner);
      return ip;
    }
    throw new IpamExhaustedError(`no free IP left in pod CIDR ${this.cidr} (${size} addresses, all allocated)`);
  }

  /** Releases the IP of owner (no-op when it has none). */
  release(owner: string): void {
    const ip = this.byOwner.get(owner);
    if (!ip) return;
    this.byOwner.delete(owner);
    this.byIp.delete(ip);
    if (this.dir) {
      const file = path.join(this.dir, ip);
      // Only remove the file if it is still ours.
      if (safeRead(file) === owner) fs.rmSync(file, { force: true });
    }
  }
}

function safeRead(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}
