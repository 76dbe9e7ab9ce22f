import { NodeUnschedulable } from '../../src/plugins/nodeunschedulable';
import { cacheWith, info, node } from '../helpers';
import { filterAll } from './simple.helpers';

describe('NodeUnschedulable', () => {
  const cache = cacheWith([node('open'), node('cordoned', { unschedulable: true })]);
  const pl = new NodeUnschedulable();

  it('keeps pods off cordoned nodes', () => {
    expect(filterAll(pl, info('p'), cache)).toEqual({
      open: 'ok',
      cordoned: 'UnschedulableAndUnresolvable: node(s) were unschedulable',
    });
  });

  it('lets pods that tolerate the unschedulable taint through', () => {
    const p = info('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    expect(filterAll(pl, p, cache)).toEqual({ open: 'ok', cordoned: 'ok' });
    const all = info('q', { tolerations: [{ operator: 'Exists' }] });
    expect(filterAll(pl, all, cache).cordoned).toBe('ok');
  });
});
