// A set of equal-sized IPv4 subnets carved out of a cluster CIDR (127.244.0.0/16 into /24s),
// each free or used. Kubernetes' cidrset: allocation goes round-robin from the last one
// handed out, so a released subnet is not reused at once.

export interface Cidr {
  /** The network address as a 32-bit unsigned number. */
  base: number;
  prefix: number;
}

function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses 'a.b.c.d/p' (IPv4 only); throws with the reason when malformed. */
export function parseCidr(text: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  const ip = m ? ipToNumber(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw new Error(`invalid CIDR ${JSON.stringify(text)}: want an IPv4 network such as 127.244.0.0/16`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${numberToIp(c.base)}/${c.prefix}`;
}

export class CidrSet {
  readonly cluster: Cidr;
  readonly maskSize: number;
  /** How many subnets there are. */
  readonly size: number;
  private readonly used: Uint8Array;
  private next = 0;
  private allocated = 0;

  constructor(clusterCidr: string, maskSize: number) {
    this.cluster = parseCidr(clusterCidr);
    if (!(maskSize >= this.cluster.prefix && maskSize <= 32)) {
      throw new Error(`node CIDR mask size ${maskSize} must be between the cluster CIDR's prefix (${this.cluster.prefix}) and 32`);
    }
    if (maskSize - this.cluster.prefix > 24) throw new Error(`node CIDR mask size ${maskSize} gives too many subnets of ${formatCidr(this.cluster)}`);
    this.maskSize = maskSize;
    this.size = 2 ** (maskSize - this.cluster.prefix);
    this.used = new Uint8Array(this.size);
  }

  private indexOf(cidr: string): number | undefined {
    let c: Cidr;
    try {
      c = parseCidr(cidr);
    } catch {
      return undefined;
    }
    if (c.prefix !== this.maskSize) return undefined;
    const offset = c.base - this.cluster.base;
    const step = 2 ** (32 - this.maskSize);
    if (offset < 0 || offset % step !== 0) return undefined;
    const i = offset / step;
    return i < this.size ? i : undefined;
  }

  private cidrAt(i: number): string {
    return formatCidr({ base: this.cluster.base + i * 2 ** (32 - this.maskSize), prefix: this.maskSize });
  }

  /** Whether the subnet is one of this set's (right size, inside the cluster CIDR). */
  contains(cidr: string): boolean {
    return this.indexOf(cidr) !== undefined;
  }

  /** Marks a subnet used; false when it is not one of this set's. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    if (!this.used[i]) this.allocated++;
    this.used[i] = 1;
    return true;
  }

  isUsed(cidr: string): boolean {
    const i = this.indexOf(cidr);
    return i !== undefined && this.used[i] === 1;
  }

  /** Frees a subnet. */
  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i === undefined || !this.used[i]) return;
    this.used[i] = 0;
    this.allocated--;
  }

  /** The next free subnet (marked used), or undefined when all are used. */
  allocateNext(): string | undefined {
    if (this.allocated >= this.size) return undefined;
    for (let k = 0; k < this.size; k++) {
      const i = (this.next + k) % this.size;
      if (!this.used[i]) {
        this.used[i] = 1;
        this.allocated++;
        this.next = (i + 1) % this.size;
        return this.cidrAt(i);
      }
    }
    return undefined;
  }

  /** How many subnets are used. */
  usedCount(): number {
    return this.allocated;
  }
}
