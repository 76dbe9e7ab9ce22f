import {
  ApplyConfigError,
  ApplyConflictError,
  ApplyRequestError,
  LAST_APPLIED_ANNOTATION,
  ManagedFieldsError,
  type ApplyOptions,
  type ManagedFieldsEntry,
  apply as applyJson,
  updateManagedFields,
} from '@k8ts/machinery';
import { DEPLOYMENT, TEST_SCHEMA, deployment } from './apply-helpers';

type Obj = Record<string, any>;

/** apply, with the result object typed loosely for the assertions. */
function apply(...args: Parameters<typeof applyJson>) {
  const r = applyJson(...args);
  return { ...r, object: r.object as Obj };
}

const T0 = '2026-03-01T10:00:00Z';
const T1 = '2026-03-01T11:00:00Z';
const T2 = '2026-03-01T12:00:00Z';

function opts(manager: string, more: Partial<ApplyOptions> = {}): ApplyOptions {
  return { manager, apiVersion: 'apps/v1', now: T1, schema: TEST_SCHEMA, ...more };
}

/** An object as a create by `manager` (not an apply) stores it. */
function created(obj: Obj, manager: string, now = T0): Obj {
  const managedFields = updateManagedFields(DEPLOYMENT, undefined, obj, { manager, apiVersion: 'apps/v1', now, schema: TEST_SCHEMA });
  return { ...obj, metadata: { ...obj.metadata, uid: 'u-1', managedFields } };
}

function entry(obj: Obj, manager: string): ManagedFieldsEntry | undefined {
  return (obj.metadata.managedFields as ManagedFieldsEntry[]).find((e) => e.manager === manager);
}

function conflictOf(fn: () => unknown): ApplyConflictError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApplyConflictError) return err;
    throw err;
  }
  throw new Error('expected a conflict');
}

const nginxKey = 'k:{"name":"nginx"}';

describe('apply: create and re-apply', () => {
  it('creates from nothing: the configuration is the object, the applier owns what it set', () => {
    const r = apply(DEPLOYMENT, undefined, deployment({ replicas: 3 }, { labels: { app: 'web' } }), opts('kubectl'));
    expect(r.changed).toBe(true);
    expect(r.object.spec.replicas).toBe(3);
    expect(r.object.metadata.labels).toEqual({ app: 'web' });
    expect(r.managedFields).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': { 'f:containers': { [nginxKey]: { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
    expect(r.object.metadata.managedFields).toEqual(r.managedFields);
  });

  it('re-applying the same configuration changes nothing, not even the entry time', () => {
    const first = apply(DEPLOYMENT, undefined, deployment({ replicas: 3 }), opts('kubectl')).object;
    const again = apply(DEPLOYMENT, first, deployment({ replicas: 3 }), opts('kubectl', { now: T2 }));
    expect(again.changed).toBe(false);
    expect(again.managedFields).toEqual(first.metadata.managedFields);
  });

  it('removes a field the applier set last time and no longer sets', () => {
    const first = apply(DEPLOYMENT, undefined, deployment({ replicas: 3, paused: true }), opts('kubectl')).object;
    const second = apply(DEPLOYMENT, first, deployment({ replicas: 3 }), opts('kubectl', { now: T2 }));
    expect(second.object.spec.paused).toBeUndefined();
    expect(second.object.spec.replicas).toBe(3);
    expect(second.managedFields[0].time).toBe(T2);
    expect((second.managedFields[0].fieldsV1!['f:spec'] as Obj)['f:paused']).toBeUndefined();
  });

  it('keeps a dropped field another applier also set, and fields nobody applied', () => {
    let obj = apply(DEPLOYMENT, undefined, deployment({ replicas: 3 }), opts('a')).object;
    obj = apply(DEPLOYMENT, obj, deployment({ replicas: 3 }), opts('b')).object;
    obj = { ...obj, spec: { ...obj.spec, minReadySeconds: 7 } }; // set outside apply, owned by nobody
    const r = apply(DEPLOYMENT, obj, deployment(), opts('a', { now: T2 }));
    expect(r.object.spec.replicas).toBe(3);
    expect(r.object.spec.minReadySeconds).toBe(7);
    expect(entry(r.object, 'a')!.fieldsV1!['f:spec']).not.toHaveProperty('f:replicas');
    expect(entry(r.object, 'b')!.fieldsV1!['f:spec']).toHaveProperty('f:replicas');
  });
  it('removes a whole struct the applier no longer sets', () => {
    const first = apply(DEPLOYMENT, undefined, deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }), opts('kubectl')).object;
    const r = apply(DEPLOYMENT, first, deployment(), opts('kubectl', { now: T2 }));
    expect(r.object.spec.strategy).toBeUndefined();
    expect(r.managedFields[0].fieldsV1!['f:spec']).not.toHaveProperty('f:strategy');
  });

  it('owns as a whole what an older schema recorded field by field', () => {
    const live = deployment();
    live.metadata.managedFields = [
      { manager: 'old', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:selector': { 'f:matchLabels': { 'f:app': {} } } } } },
    ];
    const r = apply(DEPLOYMENT, live, deployment(), opts('kubectl'));
    expect(r.object.metadata.managedFields.find((e: ManagedFieldsEntry) => e.manager === 'old').fieldsV1).toEqual({ 'f:spec': { 'f:selector': {} } });
  });
});

describe('apply: conflicts and force', () => {
  const live = created(deployment({ replicas: 3 }), 'kubectl-client-side-apply');

  it('fails on a field another manager owns with another value, in Kubernetes words', () => {
    const err = conflictOf(() => apply(DEPLOYMENT, live, deployment({ replicas: 5 }), opts('helm')));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(err.conflicts).toEqual([
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'apps/v1',
        subresource: '',
        field: '.spec.replicas',
        message: 'conflict with "kubectl-client-side-apply" using apps/v1',
      },
    ]);
  });

  it('shares a field set to the same value: no conflict, both own it', () => {
    const r = apply(DEPLOYMENT, live, deployment({ replicas: 3 }), opts('helm'));
    expect(entry(r.object, 'helm')!.fieldsV1!['f:spec']).toHaveProperty('f:replicas');
    expect(entry(r.object, 'kubectl-client-side-apply')!.fieldsV1!['f:spec']).toHaveProperty('f:replicas');
  });

  it('takes the field when forced: the value changes and the other manager loses it', () => {
    const r = apply(DEPLOYMENT, live, deployment({ replicas: 5 }), opts('helm', { force: true }));
    expect(r.object.spec.replicas).toBe(5);
    expect(entry(r.object, 'kubectl-client-side-apply')!.fieldsV1!['f:spec']).not.toHaveProperty('f:replicas');
    expect(entry(r.object, 'helm')!.fieldsV1!['f:spec']).toHaveProperty('f:replicas');
  });

  it('lists every conflict, grouped by manager', () => {
    const withImage = apply(DEPLOYMENT, live, deployment({ replicas: 3, minReadySeconds: 1 }), opts('ci', { force: true })).object;
    const config = deployment({ replicas: 4, minReadySeconds: 2 });
    const err = conflictOf(() => apply(DEPLOYMENT, withImage, config, opts('helm')));
    expect(err.conflicts.map((c) => `${c.manager} ${c.field}`)).toEqual(['ci .spec.minReadySeconds', 'ci .spec.replicas', 'kubectl-client-side-apply .spec.replicas']);
    expect(err.message).toBe(
      'Apply failed with 3 conflicts: conflicts with "ci":\n- .spec.minReadySeconds\n- .spec.replicas\nconflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas',
    );
  });

  it('names an element of a map list in the conflict path', () => {
    const config = deployment();
    config.spec.template.spec.containers[0].image = 'nginx:1.27';
    const err = conflictOf(() => apply(DEPLOYMENT, live, config, opts('helm')));
    expect(err.conflicts.map((c) => c.field)).toEqual(['.spec.template.spec.containers[name="nginx"].image']);
  });
});

describe('apply: lists and maps', () => {
  function containersOf(obj: Obj): string[] {
    return obj.spec.template.spec.containers.map((c: Obj) => c.name);
  }

  function withContainers(...names: string[]): Obj {
    const d = deployment();
    d.spec.template.spec.containers = names.map((name) => ({ name, image: `${name}:1` }));
    return d;
  }

  it('merges a map list by key, in the order structured-merge-diff produces', () => {
    const live = created(withContainers('a', 'b'), 'kubectl-create');
    const r = apply(DEPLOYMENT, live, withContainers('c', 'a'), opts('kubectl'));
    expect(containersOf(r.object)).toEqual(['c', 'a', 'b']);
  });

  it('removes an element the applier applied before and no longer applies', () => {
    const first = apply(DEPLOYMENT, undefined, withContainers('a', 'b'), opts('kubectl')).object;
    const r = apply(DEPLOYMENT, first, withContainers('a'), opts('kubectl', { now: T2 }));
    expect(containersOf(r.object)).toEqual(['a']);
  });

  it('matches a port without protocol to the stored port with protocol TCP (the key default)', () => {
    const stored = withContainers('a');
    stored.spec.template.spec.containers[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
    const live = created(stored, 'kubectl-create');
    const config = withContainers('a');
    config.spec.template.spec.containers[0].ports = [{ containerPort: 80, name: 'http' }];
    const r = apply(DEPLOYMENT, live, config, opts('kubectl'));
    expect(r.object.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'http' }]);
  });

  it('merges a set by value and owns only its own values', () => {
    const live = created(deployment({}, { finalizers: ['x'] }), 'kubectl-create');
    const r = apply(DEPLOYMENT, live, deployment({}, { finalizers: ['y'] }), opts('kubectl'));
    expect(r.object.metadata.finalizers).toEqual(['x', 'y']);
    expect((entry(r.object, 'kubectl')!.fieldsV1!['f:metadata'] as Obj)['f:finalizers']).toEqual({ 'v:"y"': {} });
  });

  it('replaces an atomic list whole, and an atomic struct whole', () => {
    const stored = withContainers('a');
    stored.spec.template.spec.containers[0].args = ['--one', '--two'];
    stored.spec.selector = { matchLabels: { app: 'web', tier: 'x' } };
    const first = apply(DEPLOYMENT, undefined, stored, opts('kubectl')).object;
    const config = withContainers('a');
    config.spec.template.spec.containers[0].args = ['--three'];
    config.spec.selector = { matchLabels: { app: 'web' } };
    const r = apply(DEPLOYMENT, first, config, opts('kubectl', { now: T2 }));
    expect(r.object.spec.template.spec.containers[0].args).toEqual(['--three']);
    expect(r.object.spec.selector).toEqual({ matchLabels: { app: 'web' } });
  });

  it('merges a granular map key by key', () => {
    const live = created(deployment({}, { labels: { team: 'a' } }), 'kubectl-create');
    const r = apply(DEPLOYMENT, live, deployment({}, { labels: { app: 'web' } }), opts('kubectl'));
    expect(r.object.metadata.labels).toEqual({ team: 'a', app: 'web' });
  });

  it('owns a field set to null and leaves it null for the codec to drop', () => {
    const live = created(deployment({ replicas: 3 }), 'kubectl-create');
    const r = apply(DEPLOYMENT, live, deployment({ replicas: null }), opts('kubectl', { force: true }));
    expect(r.object.spec.replicas).toBeNull();
    expect(entry(r.object, 'kubectl')!.fieldsV1!['f:spec']).toHaveProperty('f:replicas');
  });

  it('applies over stored duplicates (allowed in live objects)', () => {
    const stored = withContainers('a');
    stored.spec.template.spec.containers[0].env = [
      { name: 'X', value: '1' },
      { name: 'X', value: '2' },
    ];
    const live = { ...stored, metadata: { ...stored.metadata, uid: 'u' } };
    const config = withContainers('a');
    config.spec.template.spec.containers[0].env = [{ name: 'X', value: '3' }];
    // The duplicated pair is one value owned by "before-first-apply": replacing it is a conflict.
    expect(() => apply(DEPLOYMENT, live, config, opts('kubectl'))).toThrow('.spec.template.spec.containers[name="a"].env[name="X"]');
    const r = apply(DEPLOYMENT, live, config, opts('kubectl', { force: true }));
    expect(r.object.spec.template.spec.containers[0].env).toEqual([{ name: 'X', value: '3' }]);
  });
});

describe('apply: requests Kubernetes refuses', () => {
  it('refuses another kind or version', () => {
    expect(() => apply(DEPLOYMENT, undefined, { ...deployment(), apiVersion: 'apps/v1beta1' }, opts('kubectl'))).toThrow(
      new ApplyRequestError('invalid object type: apps/v1beta1, Kind=Deployment'),
    );
    expect(() => apply(DEPLOYMENT, undefined, { ...deployment(), kind: 'ReplicaSet' }, opts('kubectl'))).toThrow('invalid object type: apps/v1, Kind=ReplicaSet');
  });

  it('refuses managedFields in the configuration', () => {
    expect(() => apply(DEPLOYMENT, undefined, deployment({}, { managedFields: [] }), opts('kubectl'))).toThrow('metadata.managedFields must be nil');
  });

  it('refuses unknown fields and duplicates with their paths', () => {
    expect(() => apply(DEPLOYMENT, undefined, deployment({ replicaz: 1 }), opts('kubectl'))).toThrow(
      new ApplyConfigError([{ path: '.spec.replicaz', reason: 'field not declared in schema' }], 'default/web; apps/v1, Kind=Deployment'),
    );
    const dup = deployment();
    dup.spec.template.spec.containers.push({ name: 'nginx', image: 'other' });
    dup.spec.replicaz = 1;
    expect(() => apply(DEPLOYMENT, undefined, dup, opts('kubectl'))).toThrow(
      'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:\n  .spec.template.spec.containers: duplicate entries for key [name="nginx"]\n  .spec.replicaz: field not declared in schema',
    );
  });

  it('names the bad entry when the stored managedFields cannot be read', () => {
    const live = deployment({}, { managedFields: [{ manager: 'x', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'k:{': {} } } }] });
    expect(() => apply(DEPLOYMENT, live, deployment(), opts('kubectl'))).toThrow(ManagedFieldsError);
    expect(() => apply(DEPLOYMENT, live, deployment(), opts('kubectl'))).toThrow('metadata.managedFields[0].fieldsV1["f:spec"]["k:{"]: failed to decode managed fields');
  });
});

describe('apply: ownership rules around the merge', () => {
  it('never owns the reset fields (status on the main resource)', () => {
    const config = { ...deployment({ replicas: 1 }), status: { replicas: 9 } };
    const r = apply(DEPLOYMENT, undefined, config, opts('kubectl', { resetFields: ['status'] }));
    expect(r.managedFields[0].fieldsV1).not.toHaveProperty('f:status');
    expect(r.managedFields[0].fieldsV1).toHaveProperty('f:spec');
  });

  it('records an applier on a subresource in its own entry', () => {
    const r = apply(DEPLOYMENT, undefined, deployment({ replicas: 2 }), opts('hpa', { subresource: 'scale' }));
    expect(r.managedFields[0]).toMatchObject({ manager: 'hpa', operation: 'Apply', subresource: 'scale' });
  });

  it('gives an untracked object "before-first-apply", which conflicts like any other manager', () => {
    const untracked = { ...deployment({ replicas: 1 }), metadata: { name: 'web', namespace: 'default', uid: 'u' } };
    const err = conflictOf(() => apply(DEPLOYMENT, untracked, deployment({ replicas: 2 }), opts('helm')));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
    const r = apply(DEPLOYMENT, untracked, deployment({ replicas: 1 }), opts('helm'));
    expect(r.managedFields.map((e) => `${e.manager}/${e.operation}`)).toEqual(['helm/Apply', 'before-first-apply/Update']);
  });
});

describe('apply: upgrading a client-side-applied object', () => {
  function clientSideApplied(config: Obj): Obj {
    const annotated = { ...config, metadata: { ...config.metadata, annotations: { [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(config)}\n` } } };
    return created(annotated, 'kubectl-client-side-apply');
  }

  it('forgives kubectl the conflicts the last-applied annotation still describes, and rewrites it', () => {
    const live = clientSideApplied(deployment({ replicas: 3 }));
    const config = deployment({ replicas: 5 });
    const r = apply(DEPLOYMENT, live, config, opts('kubectl'));
    expect(r.object.spec.replicas).toBe(5);
    expect(entry(r.object, 'kubectl-client-side-apply')!.fieldsV1!['f:spec']).not.toHaveProperty('f:replicas');
    expect(JSON.parse(r.object.metadata.annotations[LAST_APPLIED_ANNOTATION])).toEqual(config);
  });

  it('does not forgive another manager', () => {
    const live = clientSideApplied(deployment({ replicas: 3 }));
    expect(() => apply(DEPLOYMENT, live, deployment({ replicas: 5 }), opts('helm'))).toThrow(ApplyConflictError);
  });

  it('does not forgive a field someone changed since the client-side apply', () => {
    let live = clientSideApplied(deployment({ replicas: 3 }));
    const edited: Obj = { ...live, spec: { ...live.spec, replicas: 4 } };
    live = { ...edited, metadata: { ...edited.metadata, managedFields: updateManagedFields(DEPLOYMENT, live, edited, { manager: 'kubectl-edit', apiVersion: 'apps/v1', now: T0, schema: TEST_SCHEMA }) } };
    const err = conflictOf(() => apply(DEPLOYMENT, live, deployment({ replicas: 5 }), opts('kubectl')));
    expect(err.conflicts.map((c) => `${c.manager} ${c.field}`)).toEqual(['kubectl-edit .spec.replicas']);
  });
});
