import { Balancer, type Clock, RoundRobin } from '../src/balancer';
import type { EndpointTarget } from '../src/rules';

class FakeClock implements Clock {
  t = 1000;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

function ep(ip: string, port = 8080): EndpointTarget {
  return { ip, port, key: `${ip}:${port}`, nodeName: '', podName: '' };
}

const A = ep('127.244.1.2');
const B = ep('127.244.1.3');
const C = ep('127.244.1.4');

describe('RoundRobin', () => {
  test('cycles evenly over the endpoints', () => {
    const rr = new RoundRobin();
    rr.set([A, B, C]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const e = rr.pick()!;
      counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([100, 100, 100]);
  });

  test('no endpoints: nothing to pick', () => {
    const rr = new RoundRobin();
    expect(rr.pick()).toBeUndefined();
    rr.set([A]);
    rr.set([]);
    expect(rr.pick()).toBeUndefined();
  });

  test('skips excluded endpoints and gives up when all are excluded', () => {
    const rr = new RoundRobin();
    rr.set([A, B, C]);
    expect(rr.pick(new Set([A.key]))).toBe(B);
    expect(rr.pick(new Set([C.key]))).toBe(A);
    expect(rr.pick(new Set([A.key, B.key, C.key]))).toBeUndefined();
  });

  test('a changed list keeps going from where it was, and removed endpoints are never picked', () => {
    const rr = new RoundRobin();
    rr.set([A, B, C]);
    expect(rr.pick()).toBe(A);
    rr.set([A, C]);
    const picks = [rr.pick(), rr.pick(), rr.pick(), rr.pick()];
    expect(picks).not.toContain(B);
    expect(picks.filter((p) => p === A)).toHaveLength(2);
  });
});

describe('Balancer', () => {
  test('without affinity, consecutive connections of one client spread round robin', () => {
    const b = new Balancer(new FakeClock());
    b.setEndpoints([A, B, C]);
    expect([b.pick('10.0.0.1'), b.pick('10.0.0.1'), b.pick('10.0.0.1')]).toEqual([A, B, C]);
    expect(b.affinityClients).toBe(0);
  });

  test('ClientIP affinity holds while the client is active, then expires after the idle timeout', () => {
    const clock = new FakeClock();
    const b = new Balancer(clock);
    b.setEndpoints([A, B, C]);
    b.setAffinity('ClientIP', 2);
    const first = b.pick('10.0.0.1')!;
    const other = b.pick('10.0.0.2')!;
    expect(other).not.toBe(first);
    // Each connection refreshes the entry: 10 picks 1.5 s apart stay on one endpoint.
    for (let i = 0; i < 10; i++) {
      clock.advance(1500);
      expect(b.pick('10.0.0.1')).toBe(first);
    }
    // A connection that ends refreshes it too.
    clock.advance(1900);
    b.touch('10.0.0.1', first);
    clock.advance(1900);
    expect(b.pick('10.0.0.1')).toBe(first);
    // Idle for longer than the timeout: the next pick is round robin again.
    clock.advance(2001);
    const after = b.pick('10.0.0.1')!;
    expect(after).not.toBe(first);
    // ... and that is the new affinity.
    clock.advance(100);
    expect(b.pick('10.0.0.1')).toBe(after);
  });

  test('affinity to an endpoint that left is dropped; an excluded endpoint is not used', () => {
    const clock = new FakeClock();
    const b = new Balancer(clock);
    b.setEndpoints([A, B, C]);
    b.setAffinity('ClientIP', 100);
    expect(b.pick('10.0.0.1')).toBe(A);
    b.setEndpoints([B, C]);
    expect(b.affinityClients).toBe(0);
    const next = b.pick('10.0.0.1')!;
    expect([B, C]).toContain(next);
    // A failed connect to the affine endpoint moves the client to another one.
    const moved = b.pick('10.0.0.1', new Set([next.key]))!;
    expect(moved).not.toBe(next);
    expect(b.pick('10.0.0.1')).toBe(moved);
  });

  test('sweep forgets idle clients only', () => {
    const clock = new FakeClock();
    const b = new Balancer(clock);
    b.setEndpoints([A, B]);
    b.setAffinity('ClientIP', 1);
    b.pick('10.0.0.1');
    clock.advance(600);
    b.pick('10.0.0.2');
    clock.advance(600);
    expect(b.sweep()).toBe(1);
    expect(b.affinityClients).toBe(1);
  });

  test('changing the affinity settings forgets every client', () => {
    const b = new Balancer(new FakeClock());
    b.setEndpoints([A, B]);
    b.setAffinity('ClientIP', 10);
    b.pick('10.0.0.1');
    b.setAffinity('ClientIP', 10);
    expect(b.affinityClients).toBe(1);
    b.setAffinity('ClientIP', 20);
    expect(b.affinityClients).toBe(0);
    b.setAffinity('None', 0);
    expect(b.pick('10.0.0.1')).toBeDefined();
    expect(b.affinityClients).toBe(0);
  });
});
