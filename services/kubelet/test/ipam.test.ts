import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { IpAllocator, IpamExhaustedError, parseCidr } from '../src/runtime/ipam';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-ipam-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('pod IP allocation', () => {
  it('hands out addresses of the CIDR, skipping network, gateway and broadcast', () => {
    expect(parseCidr('127.244.3.0/24')).toMatchObject({ prefix: 24 });
    const a = new IpAllocator('127.244.3.0/24');
    expect(a.size).toBe(253);
    expect(a.allocate('pod-a')).toBe('127.244.3.2');
    expect(a.allocate('pod-b')).toBe('127.244.3.3');
    expect(a.allocate('pod-a')).toBe('127.244.3.2');
    expect(() => parseCidr('127.244.3.0')).toThrow(/invalid pod CIDR/);
    expect(() => parseCidr('300.1.1.0/24')).toThrow(/invalid pod CIDR/);
  });

  it('never hands out an IP twice at once, and does not reuse a released one at once', () => {
    const a = new IpAllocator('127.244.3.0/29'); // .2 .. .6
    const ips = ['a', 'b', 'c'].map((o) => a.allocate(o));
    expect(new Set(ips).size).toBe(3);
    a.release('b');
    expect(a.allocate('d')).toBe('127.244.3.5');
    expect(a.allocate('e')).toBe('127.244.3.6');
    expect(a.allocate('f')).toBe('127.244.3.3'); // wraps around to the released one
    expect(() => a.allocate('g')).toThrow(IpamExhaustedError);
  });

  it('persists allocations across restarts (a new allocator on the same directory)', () => {
    const a = new IpAllocator('127.244.3.0/24', dir);
    const ipA = a.allocate('pod-a');
    const ipB = a.allocate('pod-b');
    a.release('pod-a');
    expect(fs.readFileSync(path.join(dir, ipB), 'utf8')).toBe('pod-b');
    expect(fs.existsSync(path.join(dir, ipA))).toBe(false);

    const b = new IpAllocator('127.244.3.0/24', dir);
    expect(b.lookup('pod-b')).toBe(ipB);
    expect(b.lookup('pod-a')).toBeUndefined();
    const ipC = b.allocate('pod-c');
    expect(ipC).not.toBe(ipB);
    expect(ipC).not.toBe(ipA); // continues after the last reserved address
    expect([...b.allocations().values()].sort()).toEqual(['pod-b', 'pod-c']);
  });

  it('two allocators sharing a directory never take the same IP', () => {
    const a = new IpAllocator('127.244.3.0/24', dir);
    const b = new IpAllocator('127.244.3.0/24', dir);
    const ips = new Set<string>();
    for (let i = 0; i < 20; i++) {
      ips.add(a.allocate(`a${i}`));
      ips.add(b.allocate(`b${i}`));
    }
    expect(ips.size).toBe(40);
  });

  it('release of an unknown owner is a no-op', () => {
    const a = new IpAllocator('127.244.3.0/24', dir);
    a.release('nobody');
    expect(a.allocations().size).toBe(0);
  });
});
