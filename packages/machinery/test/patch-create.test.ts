// Creating strategic merge patches as kubectl does: the two-way patch (kubectl edit, the
// client libraries' CreateTwoWayMergePatch) and the three-way patch of kubectl apply.
import {
  applyStrategicMergePatch,
  createStrategicMergePatch,
  createThreeWayMergePatch,
  PatchError,
  requireKeyUnchanged,
  requireMetadataKeyUnchanged,
} from '@k8ts/machinery';

const POD = 'k8ts.core.v1.Pod';
type Obj = Record<string, any>;

function original(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, finalizers: ['a', 'b'] },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80 }] },
        { name: 'sidecar', image: 'busybox' },
      ],
    },
  };
}

function modified(): Obj {
  const m = original();
  m.metadata.labels = { app: 'web' };
  m.metadata.finalizers = ['a', 'b', 'c'];
  m.spec.containers = [{ name: 'app', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] }];
  return m;
}

describe('createStrategicMergePatch', () => {
  it('diffs merging lists element by element, with delete directives and order lists', () => {
    const patch = createStrategicMergePatch(POD, original(), modified());
    expect(patch).toEqual({
      metadata: { labels: { tier: null }, finalizers: ['c'], '$setElementOrder/finalizers': ['a', 'b', 'c'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'app' }],
        containers: [
          { name: 'app', image: 'nginx:1.27', '$setElementOrder/env': [{ name: 'A' }], env: [{ name: 'B', $patch: 'delete' }] },
          { name: 'sidecar', $patch: 'delete' },
        ],
      },
    });
  });

  it('yields the modified object when applied to the original', () => {
    const o = original();
    const m = modified();
    expect(applyStrategicMergePatch(POD, o, createStrategicMergePatch(POD, o, m))).toEqual(m);
    expect(o).toEqual(original());
  });

  it('round-trips a reorder, a removed volume source and a new container', () => {
    const o = original();
    o.spec.volumes = [{ name: 'data', emptyDir: {} }, { name: 'cache', emptyDir: {} }];
    const m = original();
    m.spec.containers = [m.spec.containers[1], { name: 'log', image: 'fluentd' }, m.spec.containers[0]];
    m.spec.volumes = [{ name: 'data', hostPath: { path: '/srv' } }, { name: 'cache', emptyDir: {} }];
    const patch = createStrategicMergePatch(POD, o, m) as Obj;
    expect(patch.spec.volumes).toEqual([{ name: 'data', hostPath: { path: '/srv' }, emptyDir: null, $retainKeys: ['hostPath', 'name'] }]);
    expect(patch.spec['$setElementOrder/containers']).toEqual([{ name: 'sidecar' }, { name: 'log' }, { name: 'app' }]);
    expect(applyStrategicMergePatch(POD, o, patch)).toEqual(m);
  });

  it('misses a primitive list reordered into sorted order, as Kubernetes does (it sorts the original while diffing)', () => {
    const o = original();
    o.metadata.finalizers = ['b', 'a'];
    expect(createStrategicMergePatch(POD, o, original())).toEqual({});
    expect(createStrategicMergePatch(POD, original(), o)).toEqual({ metadata: { '$setElementOrder/finalizers': ['b', 'a'] } });
  });

  it('lists removed scalars of a merging list under $deleteFromPrimitiveList', () => {
    const m = original();
    m.metadata.finalizers = ['b'];
    expect(createStrategicMergePatch(POD, original(), m)).toEqual({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a'], '$setElementOrder/finalizers': ['b'] } });
  });

  it('replaces a list without a patch strategy whole, and is empty when nothing changed', () => {
    const o = { spec: { tolerations: [{ key: 'a' }] } };
    const m = { spec: { tolerations: [{ key: 'a' }, { key: 'b' }] } };
    expect(createStrategicMergePatch(POD, o, m)).toEqual({ spec: { tolerations: [{ key: 'a' }, { key: 'b' }] } });
    expect(createStrategicMergePatch(POD, original(), original())).toEqual({});
  });

  it('names the kept keys with $retainKeys for a field whose strategy is retainKeys', () => {
    const o = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } };
    const m = { spec: { strategy: { type: 'Recreate' } } };
    const patch = createStrategicMergePatch('k8ts.apps.v1.Deployment', o, m);
    expect(patch).toEqual({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } });
    expect(applyStrategicMergePatch('k8ts.apps.v1.Deployment', o, patch)).toEqual(m);
  });

  it('fails a precondition the patch breaks', () => {
    const m = original();
    m.kind = 'Service';
    let err: unknown;
    try {
      createStrategicMergePatch(POD, original(), m, [requireKeyUnchanged('kind')]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).message).toMatch(/^precondition failed for: /);
    expect(createStrategicMergePatch(POD, original(), modified(), [requireKeyUnchanged('kind'), requireMetadataKeyUnchanged('name')])).toBeDefined();
  });
});

describe('createThreeWayMergePatch (kubectl apply)', () => {
  const lastApplied = () => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web', tier: 'front' } },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
  });
  const newConfig = () => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
  });
  const live = (image = 'nginx:1.25') => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', uid: 'u1', labels: { app: 'web', tier: 'front', 'added-by': 'controller' } },
    spec: { containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' }] },
    status: { phase: 'Running' },
  });

  it('sets what changed, removes what the configuration stopped setting, and keeps what others set', () => {
    const patch = createThreeWayMergePatch(POD, lastApplied(), newConfig(), live());
    expect(patch).toEqual({
      metadata: { labels: { tier: null } },
      spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    const applied = applyStrategicMergePatch(POD, live(), patch) as Obj;
    expect(applied.metadata.labels).toEqual({ app: 'web', 'added-by': 'controller' });
    expect(applied.spec.containers).toEqual([{ name: 'app', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' }]);
    expect(applied.status).toEqual({ phase: 'Running' });
  });

  it('works without a last applied configuration (nothing is removed)', () => {
    const patch = createThreeWayMergePatch(POD, null, newConfig(), live());
    expect(patch).toEqual({ spec: { '$setElementOrder/containers': [{ name: 'app' }], containers: [{ name: 'app', image: 'nginx:1.27' }] } });
  });

  it('with overwrite false, refuses a change someone else made differently since the last apply', () => {
    let err: unknown;
    try {
      createThreeWayMergePatch(POD, lastApplied(), newConfig(), live('nginx:1.26'), { overwrite: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).code).toBe(409);
    expect((err as PatchError).message).toContain('conflicts with changes made from original to current');
    expect(() => createThreeWayMergePatch(POD, lastApplied(), newConfig(), live(), { overwrite: false })).not.toThrow();
  });
});
