import { ConfigError } from '@k8ts/kit';
import { nodePortKey, serviceIPKey } from '@k8ts/machinery';
import { makeAllocators, PortRange, ServiceIPRange } from '../src/allocator/ranges';

describe('service IP range', () => {
  it('normalizes the CIDR and never hands out the network, first or broadcast address', () => {
    const r = new ServiceIPRange('127.96.5.7/16');
    expect(r.cidr).toBe('127.96.0.0/16');
    expect(r.contains('127.96.255.255')).toBe(true);
    expect(r.contains('127.97.0.0')).toBe(false);
    expect(r.allocatable('127.96.0.0')).toBe(false);
    expect(r.allocatable('127.96.0.1')).toBe(false);
    expect(r.allocatable('127.96.0.2')).toBe(true);
    expect(r.allocatable('127.96.255.255')).toBe(false);
    expect(r.capacity).toBe(65536 - 3);
    expect(() => new ServiceIPRange('nonsense')).toThrow(ConfigError);
    expect(() => new ServiceIPRange('10.0.0.0/31')).toThrow(ConfigError);
  });

  it('picks distinct free addresses until the range is full', () => {
    const r = new ServiceIPRange('10.0.0.0/29'); // 8 addresses, 5 allocatable
    const taken = new Set([serviceIPKey('10.0.0.3')]);
    const a = makeAllocators(r, new PortRange(1, 1), (k) => taken.has(k));
    const got = new Set<string>();
    for (let i = 0; i < 4; i++) got.add(a.pickServiceIP()!);
    expect([...got].sort()).toEqual(['10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(a.pickServiceIP()).toBeUndefined();
  });
});

describe('node port range', () => {
  it('parses, and picks distinct ports that are neither taken nor excluded', () => {
    expect(PortRange.parse('30000-32767').size).toBe(2768);
    expect(() => PortRange.parse('32767-30000')).toThrow(ConfigError);
    expect(() => PortRange.parse('0-10')).toThrow(ConfigError);
    const range = PortRange.parse('30000-30004');
    const a = makeAllocators(new ServiceIPRange('10.0.0.0/24'), range, (k) => k === nodePortKey(30001), { ips: new Set(), ports: new Set([30003]) });
    const got = [a.pickNodePort(), a.pickNodePort(), a.pickNodePort()].sort();
    expect(got).toEqual([30000, 30002, 30004]);
    expect(a.pickNodePort()).toBeUndefined();
  });
});
