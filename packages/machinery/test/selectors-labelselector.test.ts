// metav1.LabelSelector to and from label selectors (LabelSelectorAsSelector,
// FormatLabelSelector, ParseToLabelSelector): the rules every controller, the apiserver's
// validation and scale subresource, RBAC aggregation and the printers share.
import type { metav1 } from '@k8ts/api';
import {
  SelectorError,
  formatLabelSelector,
  labelSelectorAsSelector,
  parseLabelSelector,
  parseToLabelSelector,
  setAsLabelSelector,
  tryLabelSelectorAsSelector,
} from '@k8ts/machinery';

const web = { app: 'web', tier: 'frontend', env: 'prod', replicas: '3' };

describe('labelSelectorAsSelector', () => {
  test('matchLabels and matchExpressions are ANDed, sorted by key', () => {
    const sel = labelSelectorAsSelector({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['staging', 'prod'] },
        { key: 'tier', operator: 'NotIn', values: ['db'] },
        { key: 'replicas', operator: 'Exists', values: [] },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    expect(sel.matches(web)).toBe(true);
    expect(sel.matches({ ...web, legacy: 'yes' })).toBe(false);
    expect(sel.matches({ ...web, env: 'dev' })).toBe(false);
    expect(sel.matches({ ...web, tier: 'db' })).toBe(false);
    expect(sel.toString()).toBe('app=web,env in (prod,staging),!legacy,replicas,tier notin (db)');
    expect(parseLabelSelector(sel.toString()).toString()).toBe(sel.toString());
  });

  test('a missing selector matches nothing; an empty one everything', () => {
    expect(labelSelectorAsSelector(undefined).isNothing()).toBe(true);
    expect(labelSelectorAsSelector(null).matches({})).toBe(false);
    expect(labelSelectorAsSelector({}).matches(web)).toBe(true);
    expect(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }).isEverything()).toBe(true);
  });

  test('expression values keep duplicates; the text sorts them', () => {
    const sel = labelSelectorAsSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: ['y', 'x', 'y'] }] });
    expect(sel.requirements[0].values).toEqual(['y', 'x', 'y']);
    expect(sel.toString()).toBe('a in (x,y,y)');
  });

  test.each<[metav1.LabelSelector, string]>([
    [{ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }, '"Equals" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, '"Gt" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'values: Invalid value: ["x"]: values set must be empty for exists and does not exist'],
    [{ matchExpressions: [{ key: 'a/b/c', operator: 'Exists' }] }, 'key: Invalid value: "a/b/c": a qualified name must consist of'],
    [{ matchLabels: { app: 'has space' } }, 'values[0][app]: Invalid value: "has space": a valid label must be an empty string'],
  ])('invalid %j: %s', (selector, message) => {
    expect(() => labelSelectorAsSelector(selector)).toThrow(SelectorError);
    expect(() => labelSelectorAsSelector(selector)).toThrow(message);
    const tried = tryLabelSelectorAsSelector(selector);
    expect(tried).toBeInstanceOf(SelectorError);
    expect((tried as SelectorError).message.startsWith(message)).toBe(true);
  });
});

describe('formatLabelSelector (what kubectl prints)', () => {
  test('requirements sorted by key; In/NotIn values sorted; Exists as the bare key, DoesNotExist as !key', () => {
    const sel = {
      matchLabels: { tier: 'fe', app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'zone', operator: 'NotIn', values: ['b', 'a'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'gpu', operator: 'Exists' },
      ],
    };
    expect(formatLabelSelector(sel)).toBe('app=web,!canary,env in (dev,prod),gpu,tier=fe,zone notin (a,b)');
    expect(formatLabelSelector({ matchExpressions: [{ key: 'tier', operator: 'Exists', values: [] }] })).toBe('tier');
  });

  test('<none> for a missing or empty selector, <error> for one that does not convert', () => {
    expect(formatLabelSelector(undefined)).toBe('<none>');
    expect(formatLabelSelector(null)).toBe('<none>');
    expect(formatLabelSelector({})).toBe('<none>');
    expect(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).toBe('<error>');
    expect(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).toBe('<error>');
    expect(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Near', values: [] }] })).toBe('<error>');
    expect(formatLabelSelector({ matchLabels: { 'bad key!': 'x' } })).toBe('<error>');
    expect(formatLabelSelector({ matchLabels: { app: 'not valid' } })).toBe('<error>');
  });
});

describe('to a metav1.LabelSelector', () => {
  test('parseToLabelSelector: = and == into matchLabels, the rest into expressions', () => {
    expect(parseToLabelSelector('app=web,tier==fe,env in (b,a),x notin (y),gpu,!legacy')).toEqual({
      matchLabels: { app: 'web', tier: 'fe' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['a', 'b'] },
        { key: 'gpu', operator: 'Exists', values: [] },
        { key: 'legacy', operator: 'DoesNotExist', values: [] },
        { key: 'x', operator: 'NotIn', values: ['y'] },
      ],
    });
    expect(parseToLabelSelector('')).toEqual({ matchLabels: {}, matchExpressions: [] });
  });

  test('parseToLabelSelector refuses gt, lt and what does not parse', () => {
    expect(() => parseToLabelSelector('a>1')).toThrow(`"gt" isn't supported in label selectors`);
    expect(() => parseToLabelSelector('a in (')).toThrow(`couldn't parse the selector string "a in (": unable to parse requirement:`);
  });

  test('the round trip through a LabelSelector keeps the meaning', () => {
    const text = 'app=web,env in (a,b),gpu,!legacy,x notin (y)';
    expect(labelSelectorAsSelector(parseToLabelSelector(text)).toString()).toBe(text);
    expect(setAsLabelSelector({ app: 'web' })).toEqual({ matchLabels: { app: 'web' } });
  });
});
