import { matchFields, parseFieldSelector } from '../src/selectors/fields';
import { matchLabels, parseLabelSelector, SelectorParseError } from '../src/selectors/labels';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', gen: '3' };
  const m = (s: string, l: Record<string, string> = labels) => matchLabels(parseLabelSelector(s), l);

  it('parses every operator', () => {
    expect(parseLabelSelector('app=web, tier!=db,env in (a, b),zone notin (x),gpu,!legacy,gen>2,gen<5,k==v,empty=')).toEqual([
      { key: 'app', op: 'in', values: ['web'] },
      { key: 'tier', op: 'notin', values: ['db'] },
      { key: 'env', op: 'in', values: ['a', 'b'] },
      { key: 'zone', op: 'notin', values: ['x'] },
      { key: 'gpu', op: 'exists', values: [] },
      { key: 'legacy', op: '!exists', values: [] },
      { key: 'gen', op: 'gt', values: ['2'] },
      { key: 'gen', op: 'lt', values: ['5'] },
      { key: 'k', op: 'in', values: ['v'] },
      { key: 'empty', op: 'in', values: [''] },
    ]);
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('example.com/app=x')[0].key).toBe('example.com/app');
  });

  it('matches as Kubernetes does', () => {
    expect(m('app=web')).toBe(true);
    expect(m('app==web,tier=front')).toBe(true);
    expect(m('app!=web')).toBe(false);
    expect(m('missing!=x')).toBe(true);
    expect(m('tier in (front,back)')).toBe(true);
    expect(m('tier notin (front)')).toBe(false);
    expect(m('missing notin (x)')).toBe(true);
    expect(m('app')).toBe(true);
    expect(m('!app')).toBe(false);
    expect(m('!missing')).toBe(true);
    expect(m('gen>2')).toBe(true);
    expect(m('gen<3')).toBe(false);
    expect(m('')).toBe(true);
  });

  it('rejects malformed selectors', () => {
    for (const bad of ['app in (web', 'app in ()', '=x', 'app=web,', 'bad key=x', 'app=bad value!', 'gen>x', 'a b']) {
      expect(() => parseLabelSelector(bad)).toThrow(SelectorParseError);
    }
  });
});

describe('field selectors', () => {
  it('parses =, == and != with escapes', () => {
    expect(parseFieldSelector('metadata.name=web,spec.nodeName==n1,status.phase!=Running')).toEqual([
      { field: 'metadata.name', op: '=', value: 'web' },
      { field: 'spec.nodeName', op: '=', value: 'n1' },
      { field: 'status.phase', op: '!=', value: 'Running' },
    ]);
    expect(parseFieldSelector('metadata.name=a\\,b')).toEqual([{ field: 'metadata.name', op: '=', value: 'a,b' }]);
    expect(parseFieldSelector('spec.nodeName=')).toEqual([{ field: 'spec.nodeName', op: '=', value: '' }]);
    expect(() => parseFieldSelector('nonsense')).toThrow(SelectorParseError);
    expect(() => parseFieldSelector('a=b\\x')).toThrow(SelectorParseError);
  });

  it('matches field values, a missing field being empty', () => {
    const f = { 'metadata.name': 'web', 'spec.nodeName': '' };
    expect(matchFields(parseFieldSelector('metadata.name=web'), f)).toBe(true);
    expect(matchFields(parseFieldSelector('spec.nodeName='), f)).toBe(true);
    expect(matchFields(parseFieldSelector('spec.nodeName!='), f)).toBe(false);
    expect(matchFields(parseFieldSelector('metadata.name!=web'), f)).toBe(false);
  });
});
