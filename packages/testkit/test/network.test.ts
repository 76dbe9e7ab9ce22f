// Test networks: the layout of a 127.X.0.0/16, leases that exclude each other within a process
// and across processes (and end with their holder), and the rule that no lease ever overlaps
// what a default `k8ts up` binds.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  cidrContains,
  leaseTestNetwork,
  RESERVED_OCTETS,
  TEST_NETWORK_OCTETS,
  type TestNetwork,
  testNetworkLayout,
} from '@k8ts/testkit';

const REPO = path.resolve(__dirname, '..', '..', '..');
const held: TestNetwork[] = [];

afterEach(async () => {
  await Promise.all(held.splice(0).map((n) => n.release()));
});

async function lease(name: string): Promise<TestNetwork> {
  const n = await leaseTestNetwork(name);
  held.push(n);
  return n;
}

describe('the layout of a test network', () => {
  const n = testNetworkLayout(57);

  test('names node, client, Service and pod addresses inside 127.X.0.0/16', () => {
    expect(n).toMatchObject({ cidr: '127.57.0.0/16', nodeSubnet: '127.57.0.0/24', serviceCidr: '127.57.64.0/18', clusterCidr: '127.57.128.0/17' });
    expect([n.nodeIP(1), n.nodeIP(250), n.clientIP(3)]).toEqual(['127.57.0.1', '127.57.0.250', '127.57.1.3']);
    expect([n.serviceIP(1), n.serviceIP(256), n.serviceIP(16382)]).toEqual(['127.57.64.1', '127.57.65.0', '127.57.127.254']);
    expect([n.podCidr(0), n.podCidr(1), n.podCidr(127)]).toEqual(['127.57.128.0/24', '127.57.129.0/24', '127.57.255.0/24']);
    expect(n.podIP(2, 7)).toBe('127.57.130.7');
  });

  test('keeps the parts apart: pods in the cluster CIDR only, Services in the service CIDR only', () => {
    const pods = [n.podIP(0, 1), n.podIP(127, 254)];
    const services = [n.serviceIP(1), n.serviceIP(16382)];
    const nodes = [n.nodeIP(1), n.nodeIP(250), n.clientIP(1), n.clientIP(250)];
    for (const ip of [...pods, ...services, ...nodes]) expect(cidrContains(n.cidr, ip)).toBe(true);
    for (const ip of pods) expect([cidrContains(n.clusterCidr, ip), cidrContains(n.serviceCidr, ip), cidrContains(n.nodeSubnet, ip)]).toEqual([true, false, false]);
    for (const ip of services) expect([cidrContains(n.clusterCidr, ip), cidrContains(n.serviceCidr, ip), cidrContains(n.nodeSubnet, ip)]).toEqual([false, true, false]);
    expect(cidrContains(n.podCidr(3), n.podIP(3, 9))).toBe(true);
    expect(cidrContains(n.podCidr(3), n.podIP(4, 9))).toBe(false);
  });

  test('refuses indexes outside a part, naming the index and the range', () => {
    expect(() => n.nodeIP(0)).toThrow('node index 0 is out of range: must be an integer from 1 to 250');
    expect(() => n.podCidr(128)).toThrow('pod CIDR index 128 is out of range: must be an integer from 0 to 127');
    expect(() => n.podIP(1, 255)).toThrow('pod address index 255 is out of range');
    expect(() => n.serviceIP(16383)).toThrow('service IP index 16383 is out of range');
    expect(() => testNetworkLayout(255)).toThrow('octet 255 is out of range');
  });
});

describe('cidrContains', () => {
  test('compares the network bits only, and rejects malformed input', () => {
    expect(cidrContains('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(cidrContains('127.1.2.3/32', '127.1.2.3')).toBe(true);
    expect(cidrContains('127.1.2.0/33', '127.1.2.3')).toBe(false);
    expect(cidrContains('127.1.2.0/24', '127.1.2.256')).toBe(false);
  });
});

describe('the octets tests lease', () => {
  test("leave out every range `k8ts up` uses by default (read from the CLI's source)", () => {
    const up = fs.readFileSync(path.join(REPO, 'cli', 'src', 'cluster', 'up.ts'), 'utf8');
    const defaults = [...up.matchAll(/'127\.(\d+)\.\d+\.\d+\/\d+'/g)].map((m) => Number(m[1]));
    expect(defaults.length).toBeGreaterThanOrEqual(3);
    for (const octet of [0, ...defaults]) {
      expect(RESERVED_OCTETS).toContain(octet);
      expect(TEST_NETWORK_OCTETS).not.toContain(octet);
    }
    expect(new Set(TEST_NETWORK_OCTETS).size).toBe(TEST_NETWORK_OCTETS.length);
  });
});

describe('leases', () => {
  test('two leases held at once are different networks; a released one is taken again by its name', async () => {
    const a = await lease('network.test a');
    const b = await lease('network.test a');
    expect(b.octet).not.toBe(a.octet);
    expect(TEST_NETWORK_OCTETS).toContain(a.octet);
    const first = a.octet;
    await a.release();
    await a.release(); // idempotent
    const again = await lease('network.test a');
    expect(again.octet).toBe(first);
  });

  test('a network another process holds is skipped, and freed when that process is killed', async () => {
    const probe = await lease('network.test b');
    const octet = probe.octet;
    await probe.release();
    const holder = await holdInChild(octet);
    try {
      expect((await lease('network.test b')).octet).not.toBe(octet);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    await eventually(async () => {
      const n = await lease('network.test b');
      return n.octet === octet;
    });
  });
});

/** A child process holding the lock of `octet`; resolves once it holds it. */
function holdInChild(octet: number): Promise<ReturnType<typeof spawn>> {
  const code = `require('net').createServer().listen({ path: '\\0k8ts-test-network-127.${octet}' }, () => console.log('held'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (c) => reject(new Error(`the lock holder exited with ${c} before holding 127.${octet}`)));
  });
}

async function eventually(fn: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await Promise.all(held.splice(0).map((n) => n.release()));
    await new Promise((r) => setTimeout(r, 50));
  }
}
