import { NodeResourcesFit } from '../../src/plugins/noderesourcesfit';
import { cacheWith, info, node, pod } from '../helpers';
import { filterAll } from './simple.helpers';

describe('NodeResourcesFit', () => {
  const pl = new NodeResourcesFit();

  it('counts bound pods against allocatable cpu and memory', () => {
    const cache = cacheWith(
      [node('a', { cpu: '2', memory: '4Gi' }), node('b', { cpu: '2', memory: '4Gi' })],
      [pod('x', { nodeName: 'a', cpu: '1500m', memory: '1Gi' }), pod('y', { nodeName: 'b', memory: '3500Mi' })],
    );
    expect(filterAll(pl, info('p', { cpu: '500m', memory: '1Gi' }), cache)).toEqual({
      a: 'ok',
      b: 'Unschedulable: Insufficient memory',
    });
    expect(filterAll(pl, info('p', { cpu: '501m', memory: '1Gi' }), cache)).toEqual({
      a: 'Unschedulable: Insufficient cpu',
      b: 'Unschedulable: Insufficient memory',
    });
    expect(filterAll(pl, info('p', { cpu: '3', memory: '5Gi' }), cache).a).toBe('Unschedulable: Insufficient cpu, Insufficient memory');
  });

  it('counts assumed pods as well', () => {
    const cache = cacheWith([node('a', { cpu: '1' })]);
    expect(filterAll(pl, info('p', { cpu: '600m' }), cache).a).toBe('ok');
    cache.assumePod(info('first', { cpu: '600m' }), 'a');
    expect(filterAll(pl, info('p', { cpu: '600m' }), cache).a).toBe('Unschedulable: Insufficient cpu');
    cache.forgetPod('default/first');
    expect(filterAll(pl, info('p', { cpu: '600m' }), cache).a).toBe('ok');
  });

  it('limits the number of pods to allocatable pods', () => {
    const cache = cacheWith([node('a', { pods: '2' })], [pod('x', { nodeName: 'a' })]);
    expect(filterAll(pl, info('p'), cache).a).toBe('ok');
    cache.addPod(pod('y', { nodeName: 'a' }));
    expect(filterAll(pl, info('p'), cache).a).toBe('Unschedulable: Too many pods');
    expect(filterAll(pl, info('p', { cpu: '100' }), cache).a).toBe('Unschedulable: Too many pods, Insufficient cpu');
  });

  it('takes the largest init container when it exceeds the containers', () => {
    const cache = cacheWith([node('a', { cpu: '1' })]);
    const p = info('p', { cpu: '100m', initContainers: [{ name: 'init', resources: { requests: { cpu: { value: '2' } } } }] });
    expect(filterAll(pl, p, cache).a).toBe('Unschedulable: Insufficient cpu');
  });

  it('checks extended resources', () => {
    const cache = cacheWith([node('gpu', { extra: { 'nvidia.com/gpu': '1' } }), node('plain')]);
    expect(filterAll(pl, info('p', { extra: { 'nvidia.com/gpu': '1' } }), cache)).toEqual({
      gpu: 'ok',
      plain: 'Unschedulable: Insufficient nvidia.com/gpu',
    });
  });
});
