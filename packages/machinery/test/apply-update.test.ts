import { type ManagedFieldsEntry, type UpdateOptions, keepTimestampsOfNoop, updateManagedFields } from '@k8ts/machinery';
import { DEPLOYMENT, TEST_SCHEMA, deployment } from './apply-helpers';

type Obj = Record<string, any>;

const T0 = '2026-03-01T10:00:00Z';
const T1 = '2026-03-01T11:00:00Z';
const T2 = '2026-03-01T12:00:00Z';

function opts(manager: string, more: Partial<UpdateOptions> = {}): UpdateOptions {
  return { manager, apiVersion: 'apps/v1', now: T1, schema: TEST_SCHEMA, ...more };
}

/** Stores obj as the result of a write from old by `manager`. */
function write(old: Obj | undefined, obj: Obj, manager: string, more: Partial<UpdateOptions> = {}): Obj {
  const managedFields = updateManagedFields(DEPLOYMENT, old, obj, opts(manager, more));
  return { ...obj, metadata: { ...obj.metadata, uid: 'u-1', managedFields } };
}

/** The next version of a stored object: the client sends it back without managedFields. */
function edit(stored: Obj, change: (o: Obj) => void): Obj {
  const next = structuredClone(stored);
  delete next.metadata.managedFields;
  change(next);
  return next;
}

function entry(obj: Obj, manager: string): ManagedFieldsEntry | undefined {
  return (obj.metadata.managedFields as ManagedFieldsEntry[]).find((e) => e.manager === manager);
}

const created = write(undefined, deployment({ replicas: 2 }, { labels: { app: 'web' } }), 'kubectl-create', { now: T0 });

describe('updateManagedFields: creates', () => {
  it('gives the creator everything it set, with "." where a create adds a whole container, as Kubernetes does', () => {
    expect(created.metadata.managedFields).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
  });

  it('keeps a valid list the client sends on create, minus the fields the create sets', () => {
    const mine: ManagedFieldsEntry[] = [
      { manager: 'tool', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:paused': {}, 'f:replicas': {} } } },
    ];
    const obj = write(undefined, deployment({ replicas: 2 }, { managedFields: mine }), 'kubectl-create');
    // Everything in a new object is added by its creator, who takes it; the rest stays.
    expect(entry(obj, 'tool')!.fieldsV1).toEqual({ 'f:spec': { 'f:paused': {} } });
    expect(entry(obj, 'kubectl-create')!.fieldsV1!['f:spec']).toHaveProperty('f:replicas');
  });
});

describe('updateManagedFields: updates', () => {
  it('gives the writer what it changed and takes it from the others', () => {
    const next = edit(created, (o) => {
      o.spec.template.spec.containers[0].image = 'nginx:1.27';
    });
    const stored = write(created, next, 'kubectl-edit');
    const editor = entry(stored, 'kubectl-edit')!;
    expect(editor).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1', time: T1 });
    expect(editor.fieldsV1).toEqual({ 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {} } } } } } });
    const creator = entry(stored, 'kubectl-create')!;
    expect(creator.time).toBe(T0);
    expect(JSON.stringify(creator.fieldsV1)).not.toContain('f:image');
    expect(JSON.stringify(creator.fieldsV1)).toContain('f:name');
  });

  it('drops removed fields from every manager, and managers left with nothing', () => {
    const scaled = write(
      created,
      edit(created, (o) => {
        o.spec.replicas = 5;
      }),
      'kubectl',
      { subresource: 'scale' },
    );
    expect(entry(scaled, 'kubectl')).toMatchObject({ subresource: 'scale', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    const next = edit(scaled, (o) => {
      delete o.spec.replicas;
    });
    const stored = write(scaled, next, 'kubectl-edit');
    expect(entry(stored, 'kubectl')).toBeUndefined();
    expect(entry(stored, 'kubectl-edit')).toBeUndefined(); // it removed, it added nothing
    expect(JSON.stringify(stored.metadata.managedFields)).not.toContain('f:replicas');
  });

  it('keeps one entry per manager, version and subresource, stamped only when it takes fields', () => {
    const once = write(
      created,
      edit(created, (o) => {
        o.spec.paused = true;
      }),
      'ctl',
    );
    const noop = write(once, edit(once, () => {}), 'ctl', { now: T2 });
    expect(noop.metadata.managedFields).toEqual(once.metadata.managedFields);
    const status = write(
      noop,
      edit(noop, (o) => {
        o.status = { replicas: 2 };
      }),
      'ctl',
      { subresource: 'status', now: T2 },
    );
    const mine = (status.metadata.managedFields as ManagedFieldsEntry[]).filter((e) => e.manager === 'ctl');
    expect(mine.map((e) => `${e.subresource ?? ''}@${e.time}`)).toEqual([`@${T1}`, `status@${T2}`]);
  });

  it('never owns the reset fields', () => {
    const next = edit(created, (o) => {
      o.status = { replicas: 3 };
      o.spec.paused = true;
    });
    const stored = write(created, next, 'ctl', { resetFields: ['status'] });
    expect(entry(stored, 'ctl')!.fieldsV1).toEqual({ 'f:spec': { 'f:paused': {} } });
  });

  it('drops sets recorded for another API version (they cannot be converted)', () => {
    const old = structuredClone(created);
    old.metadata.managedFields.push({ manager: 'legacy', operation: 'Update', apiVersion: 'apps/v1beta2', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:paused': {} } } });
    const stored = write(old, edit(old, (o) => (o.spec.minReadySeconds = 3)), 'ctl');
    expect(entry(stored, 'legacy')).toBeUndefined();
  });

  it('merges the oldest Update managers beyond ten into "ancient-changes"', () => {
    let stored = created;
    for (let i = 0; i < 11; i++) {
      stored = write(stored, edit(stored, (o) => ((o.metadata.annotations ??= {})[`k${i}`] = 'v')), `m${i}`, { now: `2026-03-01T10:${String(i + 1).padStart(2, '0')}:00Z` });
    }
    const managers = (stored.metadata.managedFields as ManagedFieldsEntry[]).map((e) => e.manager);
    expect(managers).toHaveLength(10);
    expect(managers).toContain('ancient-changes');
    expect(managers).not.toContain('kubectl-create');
    expect(managers).not.toContain('m0');
    expect(managers).not.toContain('m1');
    // The bucket holds the merged managers' fields and the time of the newest merged (m1).
    const ancient = entry(stored, 'ancient-changes')!;
    expect(ancient.time).toBe('2026-03-01T10:02:00Z');
    expect(JSON.stringify(ancient.fieldsV1)).toContain('f:replicas'); // kubectl-create's fields
    expect(JSON.stringify(ancient.fieldsV1)).toContain('f:k0');
    expect(JSON.stringify(ancient.fieldsV1)).toContain('f:k1');
  });
});

describe('updateManagedFields: what the client sends', () => {
  it('resets with an empty list or one empty entry, and the object then stays untracked', () => {
    for (const reset of [[], [{}]]) {
      const next = { ...edit(created, (o) => (o.spec.paused = true)), metadata: { ...created.metadata, managedFields: reset } };
      const stored = write(created, next, 'ctl');
      expect(stored.metadata.managedFields).toEqual([]);
      const later = write(stored, edit(stored, (o) => (o.spec.minReadySeconds = 1)), 'ctl');
      expect(later.metadata.managedFields).toEqual([]);
    }
  });

  it('keeps a valid list (how kubectl hands client-side-apply fields to its apply entry)', () => {
    const handedOver: ManagedFieldsEntry[] = [{ ...created.metadata.managedFields[0], manager: 'kubectl', operation: 'Apply' }];
    const next = { ...edit(created, () => {}), metadata: { ...created.metadata, managedFields: handedOver } };
    const stored = write(created, next, 'kubectl');
    expect(stored.metadata.managedFields).toEqual(handedOver);
  });

  it('ignores an invalid list, and any list sent to a subresource', () => {
    const bad = [{ manager: 'x', operation: 'Patch', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: {} }];
    const next = { ...edit(created, () => {}), metadata: { ...created.metadata, managedFields: bad } };
    expect(write(created, next, 'ctl').metadata.managedFields).toEqual(created.metadata.managedFields);
    const reset = { ...edit(created, () => {}), metadata: { ...created.metadata, managedFields: [] } };
    expect(write(created, reset, 'ctl', { subresource: 'status' }).metadata.managedFields).toEqual(created.metadata.managedFields);
  });

  it('clears a stored list that cannot be read (the object becomes untracked), as Kubernetes does', () => {
    const broken = { ...created, metadata: { ...created.metadata, managedFields: [{ manager: 'x', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV2' }] } };
    expect(write(broken, edit(broken, (o) => (o.spec.paused = true)), 'ctl').metadata.managedFields).toEqual([]);
  });
});

describe('keepTimestampsOfNoop', () => {
  it('keeps the old managedFields when only their times changed and the object did not', () => {
    const restamped = structuredClone(created);
    restamped.metadata.managedFields[0].time = T2;
    expect(keepTimestampsOfNoop(created, restamped)).toEqual(created.metadata.managedFields);
    const changed = { ...restamped, spec: { ...restamped.spec, paused: true } };
    expect(keepTimestampsOfNoop(created, changed)).toEqual(restamped.metadata.managedFields);
  });
});
