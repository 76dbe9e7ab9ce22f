import type { corev1 } from '@k8ts/api';
import { PodTopologySpread } from '../../src/plugins/podtopologyspread';
import { cacheWith, info, node, pod } from '../helpers';
import { filterAll, handleFor, scoreAll } from './simple.helpers';

const zoneNodes = [
  node('a1', { labels: { zone: 'a' } }),
  node('a2', { labels: { zone: 'a' } }),
  node('b1', { labels: { zone: 'b' } }),
  node('c1', { labels: { zone: 'c' } }),
];

function spread(key: string, maxSkew: number, when: 'DoNotSchedule' | 'ScheduleAnyway', extra: Partial<corev1.TopologySpreadConstraint> = {}) {
  return [{ maxSkew, topologyKey: key, whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'web' } }, ...extra }];
}

const web = (name: string, nodeName: string, namespace = 'default') => pod(name, { nodeName, labels: { app: 'web' }, namespace });

describe('PodTopologySpread filter', () => {
  const notMatch = "Unschedulable: node(s) didn't match pod topology spread constraints";

  it('allows only domains that keep the skew within maxSkew', () => {
    const cache = cacheWith(zoneNodes, [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')]);
    const pl = new PodTopologySpread(handleFor(cache));
    // counts: a=2, b=1, c=0; min 0; placing in a: 2+1-0=3 > 1; b: 1+1=2 > 1; c: 1
    expect(filterAll(pl, info('p', { labels: { app: 'web' }, spread: spread('zone', 1, 'DoNotSchedule') }), cache)).toEqual({
      a1: notMatch,
      a2: notMatch,
      b1: notMatch,
      c1: 'ok',
    });
    expect(filterAll(pl, info('p', { labels: { app: 'web' }, spread: spread('zone', 2, 'DoNotSchedule') }), cache)).toEqual({
      a1: notMatch,
      a2: notMatch,
      b1: 'ok',
      c1: 'ok',
    });
  });

  it('does not add the pod itself when it does not match the selector, and counts only its namespace', () => {
    const cache = cacheWith(zoneNodes, [web('w1', 'a1'), web('w2', 'b1'), web('other', 'c1', 'elsewhere')]);
    const pl = new PodTopologySpread(handleFor(cache));
    const outsider = info('p', { labels: { app: 'db' }, spread: spread('zone', 1, 'DoNotSchedule') });
    expect(Object.values(filterAll(pl, outsider, cache)).every((v) => v === 'ok')).toBe(true);
    const member = info('p', { labels: { app: 'web' }, spread: spread('zone', 1, 'DoNotSchedule') });
    expect(filterAll(pl, member, cache)).toEqual({ a1: notMatch, a2: notMatch, b1: notMatch, c1: 'ok' });
  });

  it('rejects nodes without the topology key as unresolvable', () => {
    const cache = cacheWith([...zoneNodes, node('nozone')]);
    const pl = new PodTopologySpread(handleFor(cache));
    const r = filterAll(pl, info('p', { labels: { app: 'web' }, spread: spread('zone', 1, 'DoNotSchedule') }), cache);
    expect(r.nozone).toBe("UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)");
    expect(r.a1).toBe('ok');
  });

  it('takes the global minimum as 0 while fewer than minDomains domains exist', () => {
    const cache = cacheWith(zoneNodes.slice(0, 3), [web('w1', 'a1'), web('w2', 'b1')]);
    const pl = new PodTopologySpread(handleFor(cache));
    const p = (minDomains: number) => info('p', { labels: { app: 'web' }, spread: spread('zone', 1, 'DoNotSchedule', { minDomains }) });
    expect(filterAll(pl, p(2), cache).a1).toBe('ok'); // 1 + 1 - 1 = 1
    expect(filterAll(pl, p(3), cache).a1).toBe(notMatch); // 1 + 1 - 0 = 2
  });

  it('counts only nodes matching the pod node affinity (nodeAffinityPolicy Honor) and skips terminating pods', () => {
    const cache = cacheWith(zoneNodes, [web('w1', 'c1'), web('w2', 'c1')]);
    const terminating = web('gone', 'a1');
    terminating.metadata!.deletionTimestamp = '2030-01-01T00:00:00Z';
    cache.addPod(terminating);
    const pl = new PodTopologySpread(handleFor(cache));
    const p = info('p', { labels: { app: 'web' }, nodeSelector: { zone: 'a' }, spread: spread('zone', 1, 'DoNotSchedule') });
    expect(filterAll(pl, p, cache).a1).toBe('ok');
    const ignore = info('p', {
      labels: { app: 'web' },
      nodeSelector: { zone: 'a' },
      spread: spread('zone', 1, 'DoNotSchedule', { nodeAffinityPolicy: 'Ignore' }),
    });
    // with zone c (2 pods) and b (0) counted: a has 0 -> ok still; b min 0
    expect(filterAll(pl, ignore, cache).c1).toBe(notMatch);
  });

  it('counts assumed pods at once', () => {
    const cache = cacheWith(zoneNodes.slice(2));
    const pl = new PodTopologySpread(handleFor(cache));
    const p = () => info(`p${Math.random()}`, { labels: { app: 'web' }, spread: spread('zone', 1, 'DoNotSchedule') });
    cache.assumePod(info('first', { labels: { app: 'web' } }), 'b1');
    expect(filterAll(pl, p(), cache)).toEqual({ b1: notMatch, c1: 'ok' });
  });
});

describe('PodTopologySpread score', () => {
  it('prefers domains with fewer matching pods (ScheduleAnyway)', () => {
    const cache = cacheWith(zoneNodes, [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')]);
    const pl = new PodTopologySpread(handleFor(cache));
    const s = scoreAll(pl, info('p', { labels: { app: 'web' }, spread: spread('zone', 1, 'ScheduleAnyway') }), cache) as Record<string, number>;
    // raw: count * ln(3 + 2): a = 2*1.609 -> 3, b -> 2, c -> 0; normalized 100 * (max + min - s) / max
    expect(s).toEqual({ a1: 0, a2: 0, b1: 33, c1: 100 });
  });

  it('uses per-node counts for the hostname key and ignores nodes missing a key', () => {
    const cache = cacheWith([...zoneNodes, node('nozone')], [web('w1', 'a1'), web('w2', 'a1')]);
    const pl = new PodTopologySpread(handleFor(cache));
    const constraints = [...spread('kubernetes.io/hostname', 1, 'ScheduleAnyway'), ...spread('zone', 1, 'ScheduleAnyway')];
    const s = scoreAll(pl, info('p', { labels: { app: 'web' }, spread: constraints }), cache) as Record<string, number>;
    expect(s.nozone).toBe(0);
    expect(s.a1).toBe(0);
    expect(s.b1).toBe(100);
    expect(s.c1).toBe(100);
    expect(s.a2).toBeGreaterThan(0);
    expect(s.a2).toBeLessThan(100);
  });

  it('skips pods without soft constraints', () => {
    const cache = cacheWith(zoneNodes);
    expect(scoreAll(new PodTopologySpread(handleFor(cache)), info('p'), cache)).toBe('skip');
  });
});
