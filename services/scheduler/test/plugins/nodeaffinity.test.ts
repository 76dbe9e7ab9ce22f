import type { corev1 } from '@k8ts/api';
import { CycleState } from '../../src/framework/cyclestate';
import { PreFilterResult } from '../../src/framework/types';
import { NodeAffinity } from '../../src/plugins/nodeaffinity';
import { cacheWith, info, node } from '../helpers';
import { filterAll, scoreAll } from './simple.helpers';

const required = (...terms: corev1.NodeSelectorTerm[]): corev1.Affinity => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
});

describe('NodeAffinity', () => {
  const pl = new NodeAffinity();
  const cache = cacheWith([
    node('a', { labels: { zone: 'z1', disk: 'ssd', cores: '8' } }),
    node('b', { labels: { zone: 'z2', disk: 'hdd', cores: '16' } }),
    node('c', { labels: { zone: 'z3' } }),
  ]);
  const miss = "UnschedulableAndUnresolvable: node(s) didn't match Pod's node affinity/selector";
  const passing = (p: ReturnType<typeof info>) =>
    Object.entries(filterAll(pl, p, cache))
      .filter(([, v]) => v === 'ok')
      .map(([k]) => k);

  it('honors spec.nodeSelector', () => {
    expect(filterAll(pl, info('p', { nodeSelector: { disk: 'ssd' } }), cache)).toEqual({ a: 'ok', b: miss, c: miss });
  });

  it.each([
    ['In', { key: 'zone', operator: 'In', values: ['z1', 'z3'] }, ['a', 'c']],
    ['NotIn', { key: 'zone', operator: 'NotIn', values: ['z1'] }, ['b', 'c']],
    ['Exists', { key: 'disk', operator: 'Exists' }, ['a', 'b']],
    ['DoesNotExist', { key: 'disk', operator: 'DoesNotExist' }, ['c']],
    ['Gt', { key: 'cores', operator: 'Gt', values: ['10'] }, ['b']],
    ['Lt', { key: 'cores', operator: 'Lt', values: ['10'] }, ['a']],
  ] as [string, corev1.NodeSelectorRequirement, string[]][])('supports %s', (_op, expr, nodes) => {
    expect(passing(info('p', { affinity: required({ matchExpressions: [expr] }) }))).toEqual(nodes);
  });

  it('ORs terms and ANDs the requirements of a term, with matchFields on metadata.name', () => {
    const p = info('p', {
      affinity: required(
        { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }, { key: 'disk', operator: 'In', values: ['hdd'] }] },
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] },
      ),
    });
    expect(passing(p)).toEqual(['b', 'c']);
    const notA = info('p', { affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['a'] }] }) });
    expect(passing(notA)).toEqual(['b', 'c']);
  });

  it('needs both nodeSelector and affinity to match', () => {
    const p = info('p', { nodeSelector: { disk: 'ssd' }, affinity: required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] }) });
    expect(passing(p)).toEqual([]);
  });

  it('narrows the nodes in PreFilter when the terms name them', () => {
    const p = info('p', { affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a', 'b'] }] }) });
    const r = pl.preFilter(new CycleState(), p);
    expect(r instanceof PreFilterResult && [...r.nodeNames].sort()).toEqual(['a', 'b']);
    expect((pl.preFilter(new CycleState(), info('q')) as { code?: string }).code).toBe('Skip');
  });

  it('treats an empty term as matching nothing, and reports bad operators as a pod problem', () => {
    expect(passing(info('p', { affinity: required({}) }))).toEqual([]);
    const bad = info('p', { affinity: required({ matchExpressions: [{ key: 'zone', operator: 'Near', values: ['z1'] }] }) });
    expect(bad.problem).toMatch(/operator "Near"/);
  });

  it('scores by the summed weight of matching preferred terms', () => {
    const p = info('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
            { weight: 30, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] } },
          ],
        },
      },
    });
    // a: 40, b: 30, c: 0; normalized to the highest
    expect(scoreAll(pl, p, cache)).toEqual({ a: 100, b: 75, c: 0 });
    expect(scoreAll(pl, info('q'), cache)).toBe('skip');
  });
});
