import { BalancedAllocation, balancedScore } from '../../src/plugins/balancedallocation';
import { factory as balancedFactory } from '../../src/plugins/balancedallocation';
import { LeastAllocated, factory as leastFactory, leastRequestedScore } from '../../src/plugins/leastallocated';
import { cacheWith, info, node, pod } from '../helpers';
import { scoreAll } from './simple.helpers';

const cpuMem = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

describe('NodeResourcesLeastAllocated', () => {
  it('computes (allocatable - requested) * 100 / allocatable, averaged by weight', () => {
    expect(leastRequestedScore(0, 4000)).toBe(100);
    expect(leastRequestedScore(3000, 4000)).toBe(25);
    expect(leastRequestedScore(1, 3)).toBe(66);
    expect(leastRequestedScore(5000, 4000)).toBe(0);
    // Kubernetes' example: node 4000m / 10000 bytes, pod 3000m / 5000 (nothing else on the node)
    const cache = cacheWith([node('a', { cpu: '4', memory: '10000' }), node('b', { cpu: '6', memory: '10000' })]);
    const pl = new LeastAllocated(cpuMem);
    expect(scoreAll(pl, info('p', { cpu: '3', memory: '5000' }), cache)).toEqual({
      a: Math.trunc((25 + 50) / 2),
      b: Math.trunc((50 + 50) / 2),
    });
  });

  it('counts existing pods with non-zero defaults (100m, 200Mi) for containers without requests', () => {
    const cache = cacheWith([node('a', { cpu: '1', memory: '1000Mi' })], [pod('best-effort', { nodeName: 'a' })]);
    const pl = new LeastAllocated(cpuMem);
    // requested: 100m + 100m of 1000m -> 80; 200Mi + 200Mi of 1000Mi -> 60
    expect(scoreAll(pl, info('p'), cache)).toEqual({ a: 70 });
  });

  it('honors resource weights', () => {
    const cache = cacheWith([node('a', { cpu: '4', memory: '10000' })]);
    const pl = leastFactory({ resources: [{ name: 'cpu', weight: 3 }, { name: 'memory', weight: 1 }] });
    // cpu 25 * 3 + memory 50 * 1 = 125 / 4
    expect(scoreAll(pl, info('p', { cpu: '3', memory: '5000' }), cache)).toEqual({ a: 31 });
    expect(() => leastFactory({ resources: [{ name: 'cpu', weight: 0 }] })).toThrow(/weight must be an integer/);
    expect(() => leastFactory({ bogus: 1 })).toThrow(/unknown argument "bogus"/);
  });
});

describe('NodeResourcesBalancedAllocation', () => {
  it('scores (1 - std of the usage fractions) * 100', () => {
    expect(balancedScore([1, 1], [2, 2])).toBe(100);
    expect(balancedScore([3000, 5000], [4000, 10000])).toBe(Math.trunc((1 - Math.abs(0.75 - 0.5) / 2) * 100));
    expect(balancedScore([5, 0], [4, 4])).toBe(50); // fractions capped at 1
    expect(balancedScore([1, 2, 3], [4, 4, 4])).toBe(Math.trunc((1 - Math.sqrt(((0.25 - 0.5) ** 2 + 0 + (0.75 - 0.5) ** 2) / 3)) * 100));
  });

  it('prefers the node whose cpu and memory would be used evenly (real requests, incoming pod included)', () => {
    const cache = cacheWith(
      [node('even', { cpu: '4', memory: '4Gi' }), node('skewed', { cpu: '4', memory: '4Gi' })],
      [pod('x', { nodeName: 'even', cpu: '1', memory: '1Gi' }), pod('y', { nodeName: 'skewed', cpu: '3' })],
    );
    const pl = new BalancedAllocation(cpuMem);
    const s = scoreAll(pl, info('p', { cpu: '1', memory: '1Gi' }), cache) as Record<string, number>;
    expect(s.even).toBe(100);
    expect(s.skewed).toBe(Math.trunc((1 - Math.abs(1 - 0.25) / 2) * 100));
    expect(balancedFactory({}).name).toBe('NodeResourcesBalancedAllocation');
  });
});
