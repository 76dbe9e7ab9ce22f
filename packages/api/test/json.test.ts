import { fromK8sJson, toK8sJson, DecodeError, messageFns } from '@k8ts/api';

const META = 'k8ts.meta.v1.ObjectMeta';

function problems(fn: () => unknown): { field: string; reason: string }[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError) return e.problems;
    throw e;
  }
  throw new Error('expected a DecodeError');
}

describe('Kubernetes JSON codec', () => {
  test('decodes ObjectMeta into the ts-proto shape and back', () => {
    const json = {
      name: 'web',
      namespace: 'default',
      generation: 3,
      creationTimestamp: '2026-01-02T15:04:05Z',
      labels: { app: 'web', tier: 'front' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u1', controller: true }],
      finalizers: ['example.com/cleanup'],
      deletionGracePeriodSeconds: 0,
    };
    const obj = fromK8sJson<any>(META, json);
    expect(obj.name).toBe('web');
    expect(obj.generateName).toBe(''); // defaults filled like ts-proto's decode
    expect(obj.annotations).toEqual({});
    expect(obj.deletionGracePeriodSeconds).toBe(0); // optional field set to zero stays set
    expect(obj.ownerReferences[0].controller).toBe(true);
    expect(obj.ownerReferences[0].blockOwnerDeletion).toBeUndefined();

    // Through the protobuf binary form and back to JSON: nothing is lost.
    const fns = messageFns(META);
    const back = fns.decode(fns.encode(obj).finish());
    expect(toK8sJson(META, back)).toEqual(json);
  });

  test('omits defaults and empty collections like Kubernetes omitempty', () => {
    const obj = fromK8sJson<any>(META, { name: 'x', labels: {}, finalizers: [] });
    expect(toK8sJson(META, obj)).toEqual({ name: 'x' });
  });

  test('IntOrString and Quantity take their Kubernetes JSON forms', () => {
    expect(fromK8sJson('k8ts.meta.v1.IntOrString', 8080)).toEqual({ intVal: 8080 });
    expect(fromK8sJson('k8ts.meta.v1.IntOrString', 'http')).toEqual({ strVal: 'http' });
    expect(toK8sJson('k8ts.meta.v1.IntOrString', { strVal: '25%' })).toBe('25%');
    expect(toK8sJson('k8ts.meta.v1.IntOrString', { intVal: 0 })).toBe(0);
    expect(fromK8sJson('k8ts.meta.v1.Quantity', '500m')).toEqual({ value: '500m' });
    expect(fromK8sJson('k8ts.meta.v1.Quantity', 2)).toEqual({ value: '2' });
    expect(fromK8sJson('k8ts.meta.v1.Quantity', '1.5Gi')).toEqual({ value: '1.5Gi' });
    expect(toK8sJson('k8ts.meta.v1.Quantity', { value: '128Mi' })).toBe('128Mi');
    expect(problems(() => fromK8sJson('k8ts.meta.v1.Quantity', '12 apples'))[0].reason).toMatch(/quantities must match/);
    expect(problems(() => fromK8sJson('k8ts.meta.v1.IntOrString', 1.5))[0].reason).toMatch(/integer or a string/);
  });

  test('wrong types are reported with their field paths, all at once', () => {
    const p = problems(() =>
      fromK8sJson(META, {
        name: 42,
        generation: 'three',
        labels: { ok: 'yes', bad: 7 },
        ownerReferences: [{ kind: 'ReplicaSet' }, { kind: ['x'] }],
        creationTimestamp: 'yesterday',
        colour: 'blue',
      }),
    );
    const byField = Object.fromEntries(p.map((x) => [x.field, x.reason]));
    expect(byField).toEqual({
      name: 'expected string, got number 42',
      generation: 'expected integer, got string "three"',
      'labels["bad"]': 'expected string, got number 7',
      'ownerReferences[1].kind': 'expected string, got array',
      creationTimestamp: 'invalid RFC 3339 timestamp "yesterday"',
      colour: 'unknown field',
    });
  });

  test('unknown fields can be ignored on request; null means unset', () => {
    const obj = fromK8sJson<any>(META, { name: 'x', colour: 'blue', labels: null }, { unknownFields: 'ignore' });
    expect(obj.name).toBe('x');
    expect(obj.labels).toEqual({});
  });

  test('int64 accepts proto3 JSON decimal strings but not unsafe integers', () => {
    expect(fromK8sJson<any>(META, { generation: '12' }).generation).toBe(12);
    expect(problems(() => fromK8sJson(META, { generation: 2 ** 60 }))[0].reason).toMatch(/out of range/);
  });

  test('a message where an object is expected is an error, not a crash', () => {
    expect(problems(() => fromK8sJson(META, 'name'))[0]).toEqual({ field: '', reason: 'expected object, got string "name"' });
    expect(problems(() => fromK8sJson(META, { ownerReferences: {} }))[0].field).toBe('ownerReferences');
  });
});
