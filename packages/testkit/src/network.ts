// Loopback address ranges for tests: each test file leases a 127.X.0.0/16 of its own, away
// from the ranges a `k8ts up` cluster on its defaults binds (cli/src/cluster/up.ts: the control
// plane on 127.0.0.1, nodes in 127.10.0.0/24, pods in 127.244.0.0/16, Services in
// 127.96.0.0/16 with NodePorts on the node IPs). The rule: a test that binds node, pod, Service
// or client addresses takes them from its lease, so that two test files, two test runs on one
// machine, and a developer's running cluster never bind the same address.
//
// A lease is an abstract Unix socket named after the octet (Linux): the kernel keeps the name
// unique and frees it when its holder exits, even by SIGKILL, so no stale lock is left behind.
import * as net from 'net';

/** Second octets of 127.X that tests never lease: 127.0 (control planes) and `k8ts up`'s defaults. */
export const RESERVED_OCTETS: readonly number[] = [0, 10, 96, 244];

const FIRST_OCTET = 20;
const LAST_OCTET = 250;

/** The second octets tests lease from, in order. */
export const TEST_NETWORK_OCTETS: readonly number[] = Array.from({ length: LAST_OCTET - FIRST_OCTET + 1 }, (_, i) => FIRST_OCTET + i).filter(
  (x) => !RESERVED_OCTETS.includes(x),
);

/** The largest node index: node IPs are 127.X.0.1 to 127.X.0.250. */
export const MAX_NODE_INDEX = 250;
/** The largest node index with a pod CIDR: 127.X.128.0/24 to 127.X.255.0/24. */
export const MAX_POD_CIDR_INDEX = 127;

/**
 * One test file's addresses, all inside 127.X.0.0/16:
 *   127.X.0.0/24    node IPs (127.X.0.i; `k8ts up --node-subnet`)
 *   127.X.1.0/24    client source addresses (127.X.1.i)
 *   127.X.64.0/18   Service ClusterIPs (`--service-cidr`, `--service-cluster-ip-range`)
 *   127.X.128.0/17  pod CIDRs, a /24 per node (`--cluster-cidr`): node i gets 127.X.(128+i).0/24
 */
export interface TestNetwork {
  /** X of 127.X.0.0/16. */
  readonly octet: number;
  /** 127.X.0.0/16: every address below. */
  readonly cidr: string;
  /** 127.X.0.0/24: node i has the IP 127.X.0.i. */
  readonly nodeSubnet: string;
  /** 127.X.64.0/18. */
  readonly serviceCidr: string;
  /** 127.X.128.0/17. */
  readonly clusterCidr: string;
  /** Node i's IP, 127.X.0.i (i from 1 to 250). */
  nodeIP(i: number): string;
  /** Client address i, 127.X.1.i (i from 1 to 250), for clients that must differ by source IP. */
  clientIP(i: number): string;
  /** The i-th address of the service CIDR, 127.X.64.0 + i (i from 1 to 16382). */
  serviceIP(i: number): string;
  /** Node i's pod CIDR, 127.X.(128+i).0/24 (i from 0 to 127). */
  podCidr(i: number): string;
  /** Address j of node i's pod CIDR, 127.X.(128+i).j (j from 1 to 254). */
  podIP(i: number, j: number): string;
  /** Ends the lease (idempotent). Everything bound on the network should be closed first. */
  release(): Promise<void>;
}

/** The error when every test network is leased (or something holds their lock names). */
export class NoTestNetworkError extends Error {
  constructor() {
    super(
      `no test network is free: all ${TEST_NETWORK_OCTETS.length} of 127.${FIRST_OCTET}-${LAST_OCTET}.0.0/16 are leased ` +
        '(abstract Unix sockets "@k8ts-test-network-127.X" are held, see /proc/net/unix)',
    );
  }
}

/**
 * Leases a test network. `name` (e.g. the test file's path) picks the octet tried first, so a
 * file usually gets the same network run after run; when that one is leased, the next free one
 * is taken. Release it in afterAll; a process that exits releases its leases anyway.
 */
export async function leaseTestNetwork(name = ''): Promise<TestNetwork> {
  const start = preferredIndex(name);
  for (let k = 0; k < TEST_NETWORK_OCTETS.length; k++) {
    const octet = TEST_NETWORK_OCTETS[(start + k) % TEST_NETWORK_OCTETS.length];
    const lock = await tryLock(octet);
    if (lock) return testNetwork(octet, lock);
  }
  throw new NoTestNetworkError();
}

/** The addresses of network 127.X.0.0/16 (no lease: for the layout alone). */
export function testNetworkLayout(octet: number): Omit<TestNetwork, 'release'> {
  checkIndex('octet', octet, 1, 254);
  const base = `127.${octet}`;
  return {
    octet,
    cidr: `${base}.0.0/16`,
    nodeSubnet: `${base}.0.0/24`,
    serviceCidr: `${base}.64.0/18`,
    clusterCidr: `${base}.128.0/17`,
    nodeIP: (i) => `${base}.0.${checkIndex('node index', i, 1, MAX_NODE_INDEX)}`,
    clientIP: (i) => `${base}.1.${checkIndex('client index', i, 1, 250)}`,
    serviceIP: (i) => {
      const n = checkIndex('service IP index', i, 1, 2 ** 14 - 2);
      return `${base}.${64 + (n >> 8)}.${n & 255}`;
    },
    podCidr: (i) => `${base}.${128 + checkIndex('pod CIDR index', i, 0, MAX_POD_CIDR_INDEX)}.0/24`,
    podIP: (i, j) => `${base}.${128 + checkIndex('pod CIDR index', i, 0, MAX_POD_CIDR_INDEX)}.${checkIndex('pod address index', j, 1, 254)}`,
  };
}

/** Whether an IPv4 address lies in an IPv4 CIDR (false for anything malformed). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = ipv4ToInt(base);
  const b = ipv4ToInt(ip);
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function testNetwork(octet: number, lock: net.Server): TestNetwork {
  let released: Promise<void> | undefined;
  const release = () => {
    released ??= new Promise<void>((resolve) => lock.close(() => resolve()));
    return released;
  };
  return { ...testNetworkLayout(octet), release };
}

/** The lock's name in the abstract socket namespace (the leading NUL keeps it off the filesystem). */
function lockName(octet: number): string {
  return `\0k8ts-test-network-127.${octet}`;
}

/** Binds the octet's lock; resolves with the server, or undefined when another process holds it. */
function tryLock(octet: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((conn) => conn.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(new Error(`leasing test network 127.${octet}.0.0/16: ${err.message}`));
    });
    server.listen({ path: lockName(octet) }, () => {
      // A lease never keeps the test process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

/** FNV-1a of the name, as an index into TEST_NETWORK_OCTETS. */
function preferredIndex(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % TEST_NETWORK_OCTETS.length;
}

function checkIndex(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} ${value} is out of range: must be an integer from ${min} to ${max}`);
  }
  return value;
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}
