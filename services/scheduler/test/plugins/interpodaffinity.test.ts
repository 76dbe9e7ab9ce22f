import type { corev1 } from '@k8ts/api';
import { InterPodAffinity } from '../../src/plugins/interpodaffinity';
import { factory } from '../../src/plugins/interpodaffinity';
import { cacheWith, info, node, pod } from '../helpers';
import { filterAll, handleFor, scoreAll } from './simple.helpers';

const HOST = 'kubernetes.io/hostname';
const nodes = [
  node('a1', { labels: { zone: 'a' } }),
  node('a2', { labels: { zone: 'a' } }),
  node('b1', { labels: { zone: 'b' } }),
  node('nozone'),
];

const term = (labels: Record<string, string>, topologyKey: string, extra: Partial<corev1.PodAffinityTerm> = {}): corev1.PodAffinityTerm => ({
  labelSelector: { matchLabels: labels },
  topologyKey,
  ...extra,
});
const antiRequired = (...terms: corev1.PodAffinityTerm[]): corev1.Affinity => ({
  podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms },
});
const affinityRequired = (...terms: corev1.PodAffinityTerm[]): corev1.Affinity => ({
  podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms },
});

const plugin = (cache: ReturnType<typeof cacheWith>) => new InterPodAffinity(handleFor(cache), { hardPodAffinityWeight: 1 });
const AFF = "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules";
const ANTI = "Unschedulable: node(s) didn't match pod anti-affinity rules";
const EXISTING = "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules";

describe('InterPodAffinity required anti-affinity', () => {
  it('keeps replicas apart by hostname', () => {
    const cache = cacheWith(nodes, [pod('w1', { nodeName: 'a1', labels: { app: 'web' } })]);
    const p = info('p', { labels: { app: 'web' }, affinity: antiRequired(term({ app: 'web' }, HOST)) });
    expect(filterAll(plugin(cache), p, cache)).toEqual({ a1: ANTI, a2: 'ok', b1: 'ok', nozone: 'ok' });
  });

  it('keeps replicas apart by zone, and counts assumed pods', () => {
    const cache = cacheWith(nodes);
    cache.assumePod(info('w1', { labels: { app: 'web' } }), 'a2');
    const p = info('p', { labels: { app: 'web' }, affinity: antiRequired(term({ app: 'web' }, 'zone')) });
    expect(filterAll(plugin(cache), p, cache)).toEqual({ a1: ANTI, a2: ANTI, b1: 'ok', nozone: 'ok' });
  });

  it("honors existing pods' anti-affinity against the incoming pod", () => {
    const cache = cacheWith(nodes, [pod('loner', { nodeName: 'a1', labels: { app: 'loner' }, affinity: antiRequired(term({ app: 'web' }, 'zone')) })]);
    const p = info('p', { labels: { app: 'web' } });
    expect(filterAll(plugin(cache), p, cache)).toEqual({ a1: EXISTING, a2: EXISTING, b1: 'ok', nozone: 'ok' });
    expect(filterAll(plugin(cache), info('q', { labels: { app: 'db' } }), cache)).toEqual({ a1: 'ok', a2: 'ok', b1: 'ok', nozone: 'ok' });
  });

  it('looks only at the namespaces of the term', () => {
    const cache = cacheWith(nodes, [pod('w1', { nodeName: 'a1', labels: { app: 'web' }, namespace: 'other' })]);
    const own = info('p', { labels: { app: 'web' }, affinity: antiRequired(term({ app: 'web' }, HOST)) });
    expect(filterAll(plugin(cache), own, cache).a1).toBe('ok');
    const listed = info('p', { labels: { app: 'web' }, affinity: antiRequired(term({ app: 'web' }, HOST, { namespaces: ['other'] })) });
    expect(filterAll(plugin(cache), listed, cache).a1).toBe(ANTI);
    const all = info('p', { labels: { app: 'web' }, affinity: antiRequired(term({ app: 'web' }, HOST, { namespaceSelector: {} })) });
    expect(filterAll(plugin(cache), all, cache).a1).toBe(ANTI);
    cache.setNamespace({ metadata: { name: 'other', labels: { team: 'x' } } });
    const bySelector = info('p', {
      labels: { app: 'web' },
      affinity: antiRequired(term({ app: 'web' }, HOST, { namespaceSelector: { matchLabels: { team: 'x' } } })),
    });
    expect(filterAll(plugin(cache), bySelector, cache).a1).toBe(ANTI);
  });

  it('supports matchExpressions selectors', () => {
    const cache = cacheWith(nodes, [pod('w1', { nodeName: 'b1', labels: { tier: 'cache' } })]);
    const p = info('p', {
      affinity: antiRequired({ labelSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['cache', 'db'] }] }, topologyKey: HOST }),
    });
    expect(filterAll(plugin(cache), p, cache).b1).toBe(ANTI);
  });
});

describe('InterPodAffinity required affinity', () => {
  it('requires a matching pod in the same domain', () => {
    const cache = cacheWith(nodes, [pod('db', { nodeName: 'a2', labels: { app: 'db' } })]);
    const p = info('p', { labels: { app: 'web' }, affinity: affinityRequired(term({ app: 'db' }, 'zone')) });
    expect(filterAll(plugin(cache), p, cache)).toEqual({ a1: 'ok', a2: 'ok', b1: AFF, nozone: AFF });
  });

  it('lets the first pod of a self-affine group go anywhere with the topology key', () => {
    const cache = cacheWith(nodes);
    const p = info('p', { labels: { app: 'web' }, affinity: affinityRequired(term({ app: 'web' }, 'zone')) });
    expect(filterAll(plugin(cache), p, cache)).toEqual({ a1: 'ok', a2: 'ok', b1: 'ok', nozone: AFF });
    const other = info('p', { labels: { app: 'web' }, affinity: affinityRequired(term({ app: 'db' }, 'zone')) });
    expect(Object.values(filterAll(plugin(cache), other, cache))).toEqual([AFF, AFF, AFF, AFF]);
  });

  it('needs pods matching all terms', () => {
    const cache = cacheWith(nodes, [pod('db', { nodeName: 'a1', labels: { app: 'db' } }), pod('cache', { nodeName: 'b1', labels: { app: 'cache' } })]);
    const p = info('p', { affinity: affinityRequired(term({ app: 'db' }, 'zone'), term({ app: 'cache' }, 'zone')) });
    expect(Object.values(filterAll(plugin(cache), p, cache))).toEqual([AFF, AFF, AFF, AFF]);
  });
});

describe('InterPodAffinity score', () => {
  it("weighs the pod's preferred affinity and anti-affinity by matching pods per domain", () => {
    const cache = cacheWith(nodes, [
      pod('db', { nodeName: 'a1', labels: { app: 'db' } }),
      pod('noisy', { nodeName: 'b1', labels: { app: 'noisy' } }),
    ]);
    const p = info('p', {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'db' }, 'zone') }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term({ app: 'noisy' }, HOST) }] },
      },
    });
    // raw: a1 10, a2 10, b1 -5, nozone 0; normalized between min -5 and max 10
    expect(scoreAll(plugin(cache), p, cache)).toEqual({ a1: 100, a2: 100, b1: 0, nozone: 33 });
  });

  it("counts existing pods' preferred terms and required affinity (hardPodAffinityWeight) toward the incoming pod", () => {
    const cache = cacheWith(nodes, [
      pod('fan', {
        nodeName: 'b1',
        labels: { app: 'fan' },
        affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 20, podAffinityTerm: term({ app: 'web' }, 'zone') }] } },
      }),
      pod('clingy', { nodeName: 'a1', labels: { app: 'clingy' }, affinity: affinityRequired(term({ app: 'web' }, HOST)) }),
    ]);
    const s = scoreAll(plugin(cache), info('p', { labels: { app: 'web' } }), cache);
    expect(s).toEqual({ a1: 5, a2: 0, b1: 100, nozone: 0 });
    const heavy = new InterPodAffinity(handleFor(cache), { hardPodAffinityWeight: 40 });
    expect(scoreAll(heavy, info('p', { labels: { app: 'web' } }), cache)).toEqual({ a1: 100, a2: 0, b1: 50, nozone: 0 });
  });

  it('skips pods with nothing to score', () => {
    const cache = cacheWith(nodes, [pod('x', { nodeName: 'a1' })]);
    expect(scoreAll(plugin(cache), info('p'), cache)).toBe('skip');
  });

  it('validates its arguments', () => {
    const cache = cacheWith(nodes);
    expect(factory({ hardPodAffinityWeight: 5 }, handleFor(cache)).args.hardPodAffinityWeight).toBe(5);
    expect(() => factory({ hardPodAffinityWeight: 500 }, handleFor(cache))).toThrow(/between 0 and 100/);
  });
});
