// toTable: the meta.k8s.io/v1 Table the API server answers with for
// Accept: application/json;as=Table;v=v1;g=meta.k8s.io, and ?includeObject=.
import { kindByName } from '@k8ts/api';
import { parseIncludeObject, toTable } from '@k8ts/machinery';

const NOW = Date.parse('2026-01-10T12:00:00Z');
const cm = (name: string, rv: string) => ({
  metadata: { name, namespace: 'default', resourceVersion: rv, creationTimestamp: '2026-01-10T11:59:00Z', labels: { app: 'web' } },
  data: { a: '1', b: '2' },
});

describe('toTable', () => {
  const kind = kindByName('configmaps')!;

  test('a Table with every column definition and one row of cells per object, metadata by default', () => {
    const table = toTable(kind, [cm('one', '5'), cm('two', '7')], { now: NOW, listMeta: { resourceVersion: '9', continue: 'abc', remainingItemCount: 3 } });
    expect(table).toEqual({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: '9', continue: 'abc', remainingItemCount: 3 },
      columnDefinitions: [
        expect.objectContaining({ name: 'Name', type: 'string', format: 'name', priority: 0 }),
        expect.objectContaining({ name: 'Data', type: 'string', format: '', priority: 0 }),
        expect.objectContaining({ name: 'Age', type: 'string', format: '', priority: 0 }),
      ],
      rows: [
        { cells: ['one', 2, '60s'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm('one', '5').metadata } },
        { cells: ['two', 2, '60s'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm('two', '7').metadata } },
      ],
    });
    for (const c of table.columnDefinitions) expect(Object.keys(c).sort()).toEqual(['description', 'format', 'name', 'priority', 'type']);
  });

  test('includeObject=Object carries the whole object with apiVersion and kind; None carries none', () => {
    const whole = toTable(kind, [{ kind: 'Wrong', ...cm('one', '5') }], { now: NOW, includeObject: 'Object' });
    expect(whole.rows[0].object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', ...cm('one', '5') });
    const none = toTable(kind, [cm('one', '5')], { now: NOW, includeObject: 'None' });
    expect(none.rows).toEqual([{ cells: ['one', 2, '60s'] }]);
    expect(none.metadata).toEqual({});
  });

  test('wide cells are always there: the client hides columns of priority above 0', () => {
    const deploy = kindByName('deployments')!;
    const d = { metadata: { name: 'web', creationTimestamp: '2026-01-10T11:55:00Z' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } }, status: { readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2 } };
    const table = toTable(deploy, [d], { now: NOW, includeObject: 'None' });
    expect(table.columnDefinitions.map((c) => c.priority)).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(table.rows).toEqual([{ cells: ['web', '2/2', 2, 2, '5m', 'c', 'i', 'app=web'] }]);
  });

  test('rows of finished pods carry their Completed condition', () => {
    const pod = { metadata: { name: 'job-x', creationTimestamp: '2026-01-10T11:00:00Z' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Succeeded' } };
    const table = toTable(kindByName('pods')!, [pod], { now: NOW, includeObject: 'None' });
    expect(table.rows[0].conditions).toEqual([{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  });

  test('an empty list is a Table without rows', () => {
    expect(toTable(kind, [], { now: NOW }).rows).toEqual([]);
  });
});

describe('parseIncludeObject', () => {
  test('absent or empty is Metadata; None, Metadata, Object; anything else names the parameter', () => {
    expect(parseIncludeObject(undefined)).toBe('Metadata');
    expect(parseIncludeObject('')).toBe('Metadata');
    expect(parseIncludeObject('None')).toBe('None');
    expect(parseIncludeObject('Object')).toBe('Object');
    expect(() => parseIncludeObject('object')).toThrow(/^includeObject: Invalid value: "object": must be 'Metadata', 'Object', 'None', or empty$/);
  });
});
