import { TaintToleration } from '../../src/plugins/tainttoleration';
import { cacheWith, info, node } from '../helpers';
import { filterAll, scoreAll } from './simple.helpers';

describe('TaintToleration', () => {
  const pl = new TaintToleration();
  const cache = cacheWith([
    node('clean'),
    node('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    node('draining', { taints: [{ key: 'maintenance', effect: 'NoExecute' }] }),
    node('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }),
    node('softer', {
      taints: [
        { key: 'spot', value: 'true', effect: 'PreferNoSchedule' },
        { key: 'old', value: 'yes', effect: 'PreferNoSchedule' },
      ],
    }),
  ]);

  it('filters NoSchedule and NoExecute taints the pod does not tolerate', () => {
    expect(filterAll(pl, info('p'), cache)).toEqual({
      clean: 'ok',
      gpu: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {dedicated: gpu}',
      draining: 'UnschedulableAndUnresolvable: node(s) had untolerated taint {maintenance: }',
      soft: 'ok',
      softer: 'ok',
    });
  });

  it('matches tolerations by key, operator, value and effect', () => {
    const equal = info('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
    expect(filterAll(pl, equal, cache).gpu).toBe('ok');
    const wrongValue = info('p', { tolerations: [{ key: 'dedicated', value: 'cpu' }] });
    expect(filterAll(pl, wrongValue, cache).gpu).toMatch(/untolerated/);
    const wrongEffect = info('p', { tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }] });
    expect(filterAll(pl, wrongEffect, cache).gpu).toMatch(/untolerated/);
    const exists = info('p', { tolerations: [{ key: 'maintenance', operator: 'Exists' }] });
    expect(filterAll(pl, exists, cache).draining).toBe('ok');
    const everything = info('p', { tolerations: [{ operator: 'Exists' }] });
    expect(Object.values(filterAll(pl, everything, cache)).every((v) => v === 'ok')).toBe(true);
  });

  it('scores nodes with fewer untolerated PreferNoSchedule taints higher', () => {
    const nodes = ['clean', 'soft', 'softer'].map((n) => cache.node(n)!);
    expect(scoreAll(pl, info('p'), cache, nodes)).toEqual({ clean: 100, soft: 50, softer: 0 });
    const tolerant = info('p', { tolerations: [{ key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }] });
    expect(scoreAll(pl, tolerant, cache, nodes)).toEqual({ clean: 100, soft: 100, softer: 0 });
    // a toleration for NoSchedule only does not help with PreferNoSchedule
    const hard = info('p', { tolerations: [{ key: 'spot', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(scoreAll(pl, hard, cache, nodes)).toEqual({ clean: 100, soft: 50, softer: 0 });
  });
});
