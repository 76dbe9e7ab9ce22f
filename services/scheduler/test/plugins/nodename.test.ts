import { NodeName } from '../../src/plugins/nodename';
import { cacheWith, info, node } from '../helpers';
import { filterAll } from './simple.helpers';

describe('NodeName', () => {
  const cache = cacheWith([node('a'), node('b')]);
  const pl = new NodeName();

  it('passes every node when the pod names none', () => {
    expect(filterAll(pl, info('p'), cache)).toEqual({ a: 'ok', b: 'ok' });
  });

  it('passes only the named node', () => {
    expect(filterAll(pl, info('p', { nodeName: 'b' }), cache)).toEqual({
      a: "UnschedulableAndUnresolvable: node(s) didn't match the requested node name",
      b: 'ok',
    });
  });
});
