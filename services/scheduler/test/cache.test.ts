import { SchedulerCache } from '../src/cache/cache';
import { PodMatcher } from '../src/cache/counters';
import { everything, nothing, selectorFromSet } from '@k8ts/machinery';
import { PodInfo } from '../src/podinfo';
import { info, node, pod } from './helpers';

describe('scheduler cache', () => {
  let now = 1000;
  const clock = () => now;
  let cache: SchedulerCache;
  beforeEach(() => {
    now = 1000;
    cache = new SchedulerCache({ now: clock, assumedPodTtlMs: 30_000 });
    cache.setNode(node('n1', { cpu: '2', memory: '4Gi' }));
    cache.setNode(node('n2'));
  });

  it('reads allocatable and keeps per-node totals of bound pods', () => {
    cache.addPod(pod('a', { nodeName: 'n1', cpu: '500m', memory: '1Gi', hostPorts: [{ port: 80 }] }));
    cache.addPod(pod('b', { nodeName: 'n1', cpu: '250m' }));
    const n1 = cache.node('n1')!;
    expect(n1.allocatable.milliCpu).toBe(2000);
    expect(n1.allowedPods).toBe(110);
    expect(n1.requested.milliCpu).toBe(750);
    expect(n1.requested.memory).toBe(1024 ** 3);
    expect(n1.nonZeroMemory).toBe(1024 ** 3 + 200 * 1024 * 1024);
    expect(n1.pods.size).toBe(2);
    expect(n1.portsConflict([{ ip: '0.0.0.0', protocol: 'TCP', port: 80 }])).toBe(true);
    expect(n1.portsConflict([{ ip: '0.0.0.0', protocol: 'UDP', port: 80 }])).toBe(false);
    cache.removePod(pod('a', { nodeName: 'n1' }));
    expect(n1.requested.milliCpu).toBe(250);
    expect(n1.portsConflict([{ ip: '0.0.0.0', protocol: 'TCP', port: 80 }])).toBe(false);
  });

  it('assumes a pod on its node at once, and forgets it when the bind fails', () => {
    const p = info('p', { cpu: '1' });
    cache.assumePod(p, 'n1');
    expect(cache.isAssumed('default/p')).toBe(true);
    expect(cache.node('n1')!.requested.milliCpu).toBe(1000);
    expect(cache.assumedPodCount).toBe(1);
    expect(() => cache.assumePod(p, 'n2')).toThrow(/already in the scheduler cache/);
    expect(cache.forgetPod('default/p')).toBe(true);
    expect(cache.node('n1')!.requested.milliCpu).toBe(0);
    expect(cache.pod('default/p')).toBeUndefined();
    expect(cache.assumedPodCount).toBe(0);
  });

  it('confirms an assumption when the bound pod arrives (even on another node)', () => {
    cache.assumePod(info('p', { cpu: '1' }), 'n1');
    cache.finishBinding('default/p');
    cache.addPod(pod('p', { cpu: '1', nodeName: 'n2' }));
    expect(cache.isAssumed('default/p')).toBe(false);
    expect(cache.node('n1')!.requested.milliCpu).toBe(0);
    expect(cache.node('n2')!.requested.milliCpu).toBe(1000);
    // a confirmed pod is not forgotten nor expired
    expect(cache.forgetPod('default/p')).toBe(false);
    now += 60_000;
    expect(cache.cleanupAssumedPods()).toEqual([]);
  });

  it('expires an assumption whose bind finished but whose pod never arrived', () => {
    cache.assumePod(info('p', { cpu: '1' }), 'n1');
    now += 60_000;
    expect(cache.cleanupAssumedPods()).toEqual([]); // bind still in flight: never expires
    cache.finishBinding('default/p');
    now += 29_000;
    expect(cache.cleanupAssumedPods()).toEqual([]);
    now += 1_000;
    expect(cache.cleanupAssumedPods()).toEqual(['default/p']);
    expect(cache.node('n1')!.requested.milliCpu).toBe(0);
  });

  it('keeps pods of a deleted node until they go, and lists only nodes it has objects for', () => {
    cache.addPod(pod('a', { nodeName: 'n1', cpu: '1' }));
    cache.removeNode('n1');
    expect(cache.nodes().map((n) => n.name)).toEqual(['n2']);
    expect(cache.node('n1')).toBeUndefined();
    cache.setNode(node('n1', { cpu: '2' }));
    expect(cache.node('n1')!.requested.milliCpu).toBe(1000);
    expect(cache.nodes().map((n) => n.name).sort()).toEqual(['n1', 'n2']);
  });

  it('keeps match counters current as pods come and go, with assumed pods counted', () => {
    cache.addPod(pod('a', { nodeName: 'n1', labels: { app: 'web' } }));
    cache.addPod(pod('b', { nodeName: 'n2', labels: { app: 'db' } }));
    const matcher = new PodMatcher([{ namespaces: new Set(['default']), namespaceSelector: nothing(), selector: selectorFromSet({ app: 'web' }) }]);
    const counter = cache.counters.get(matcher);
    expect([...counter.perNode]).toEqual([['n1', 1]]);
    cache.assumePod(info('c', { labels: { app: 'web' } }), 'n2');
    cache.addPod(pod('d', { nodeName: 'n2', labels: { app: 'web' }, namespace: 'other' }));
    expect(counter.on('n2')).toBe(1);
    expect(counter.total).toBe(2);
    cache.forgetPod('default/c');
    cache.removePod(pod('a', { nodeName: 'n1' }));
    expect(counter.total).toBe(0);
    expect(counter.perNode.size).toBe(0);
    expect(cache.counters.get(matcher)).toBe(counter);
    expect(cache.counters.evict(Number.POSITIVE_INFINITY)).toBe(1);
    expect(cache.counters.size).toBe(0);
  });

  it('indexes the anti-affinity terms of placed pods and finds the ones selecting a pod', () => {
    const anti = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }],
      },
    };
    cache.addPod(pod('a', { nodeName: 'n1', labels: { app: 'web' }, affinity: anti }));
    cache.addPod(pod('b', { nodeName: 'n2', labels: { app: 'web' }, affinity: anti }));
    expect(cache.requiredAntiAffinityTerms.size).toBe(1);
    const hits: string[] = [];
    cache.requiredAntiAffinityTerms.forEachMatching(new PodInfo(pod('x', { labels: { app: 'web' } })), undefined, (e) => hits.push(...e.perNode.keys()));
    expect(hits.sort()).toEqual(['n1', 'n2']);
    const none: string[] = [];
    cache.requiredAntiAffinityTerms.forEachMatching(new PodInfo(pod('y', { labels: { app: 'db' } })), undefined, (e) => none.push(...e.perNode.keys()));
    expect(none).toEqual([]);
    cache.removePod(pod('a', { nodeName: 'n1' }));
    cache.removePod(pod('b', { nodeName: 'n2' }));
    expect(cache.requiredAntiAffinityTerms.size).toBe(0);
  });

  it('clears counters when namespace labels change', () => {
    cache.setNamespace({ metadata: { name: 'team-a', labels: { team: 'a' } } });
    const matcher = new PodMatcher([{ namespaces: new Set(), namespaceSelector: selectorFromSet({ team: 'a' }), selector: everything() }]);
    cache.addPod(pod('a', { nodeName: 'n1', namespace: 'team-a' }));
    expect(cache.counters.get(matcher).total).toBe(1);
    cache.setNamespace({ metadata: { name: 'team-a', labels: { team: 'b' } } });
    expect(cache.counters.size).toBe(0);
    expect(cache.counters.get(matcher).total).toBe(0);
  });
});
