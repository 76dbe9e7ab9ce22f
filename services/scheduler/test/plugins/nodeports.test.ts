import { NodePorts } from '../../src/plugins/nodeports';
import { cacheWith, info, node, pod } from '../helpers';
import { filterAll } from './simple.helpers';

describe('NodePorts', () => {
  const pl = new NodePorts();
  const cache = cacheWith(
    [node('a'), node('b'), node('c')],
    [
      pod('web', { nodeName: 'a', hostPorts: [{ port: 80 }] }),
      pod('dns', { nodeName: 'b', hostPorts: [{ port: 53, protocol: 'UDP', ip: '127.0.0.1' }] }),
    ],
  );
  const conflict = "Unschedulable: node(s) didn't have free ports for the requested pod ports";

  it('rejects nodes where the host port is taken', () => {
    expect(filterAll(pl, info('p', { hostPorts: [{ port: 80 }] }), cache)).toEqual({ a: conflict, b: 'ok', c: 'ok' });
  });

  it('compares protocol and host IP (0.0.0.0 conflicts with every IP)', () => {
    expect(filterAll(pl, info('p', { hostPorts: [{ port: 53 }] }), cache).b).toBe('ok');
    expect(filterAll(pl, info('p', { hostPorts: [{ port: 53, protocol: 'UDP', ip: '127.0.0.2' }] }), cache).b).toBe('ok');
    expect(filterAll(pl, info('p', { hostPorts: [{ port: 53, protocol: 'UDP', ip: '127.0.0.1' }] }), cache).b).toBe(conflict);
    expect(filterAll(pl, info('p', { hostPorts: [{ port: 53, protocol: 'UDP' }] }), cache).b).toBe(conflict);
    expect(filterAll(pl, info('p', { hostPorts: [{ port: 80, ip: '10.0.0.1' }] }), cache).a).toBe(conflict);
  });

  it('lets pods without host ports go anywhere', () => {
    expect(filterAll(pl, info('p'), cache)).toEqual({ a: 'ok', b: 'ok', c: 'ok' });
  });
});
