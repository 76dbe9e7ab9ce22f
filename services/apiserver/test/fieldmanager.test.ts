import { type KindInfo, fromK8sJson, kindFor } from '@k8ts/api';
import { fieldSetFromFieldsV1 } from '@k8ts/machinery';
import { ApiError } from '../src/errors';
import { applyPatch, checkPatchOptions, checkWriteOptions, resetFieldsFor, trackUpdate } from '../src/fieldmanager';
import { strategyFor } from '../src/strategies';
import type { ApiObject } from '../src/strategies/types';

const DEPLOYMENTS = kindFor('apps/v1', 'Deployment')!;
const CONFIGMAPS = kindFor('v1', 'ConfigMap')!;
const T0 = new Date('2026-03-01T10:00:00Z');
const T1 = new Date('2026-03-01T11:00:00Z');
const T2 = new Date('2026-03-01T12:00:00Z');
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = Record<string, any>;

function config(replicas = 2, image = 'nginx:1.25'): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image }] } },
    },
  };
}

/** A create through the registry: decode, defaults, managedFields, identity, as it would be stored. */
function create(kind: KindInfo, json: Json, manager: string, now = T0): ApiObject {
  const obj = fromK8sJson<ApiObject>(kind.typeName, json);
  strategyFor(kind.resource).defaults?.(obj);
  trackUpdate(kind, undefined, obj, { fieldManager: manager, now });
  obj.metadata!.uid = 'u-1';
  obj.metadata!.resourceVersion = '5';
  return obj;
}

/** An update through the registry of what `change` makes of the stored object. */
function update(kind: KindInfo, stored: ApiObject, change: (o: ApiObject) => void, opts: Parameters<typeof trackUpdate>[3]): ApiObject {
  const next = structuredClone(stored);
  next.metadata!.managedFields = []; // a gRPC client that does not send them
  change(next);
  strategyFor(kind.resource).defaults?.(next);
  trackUpdate(kind, stored, next, opts);
  return next;
}

function managers(obj: ApiObject): string[] {
  return (obj.metadata?.managedFields ?? []).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);
}

function fieldsOf(obj: ApiObject, manager: string): Json {
  const e = obj.metadata!.managedFields!.find((m) => m.manager === manager);
  return JSON.parse(e?.fieldsV1?.raw ?? 'null');
}

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('trackUpdate', () => {
  it('records a create under the request manager, defaults included, in the stored (protobuf) form', () => {
    const obj = create(DEPLOYMENTS, config(), 'kubectl-create');
    const [entry] = obj.metadata!.managedFields!;
    expect(entry).toMatchObject({ manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: '2026-03-01T10:00:00Z', fieldsType: 'FieldsV1' });
    const spec = fieldsOf(obj, 'kubectl-create')['f:spec'];
    expect(spec).toHaveProperty('f:replicas');
    expect(spec).toHaveProperty('f:revisionHistoryLimit'); // a default: the creator's, as in Kubernetes
    expect(spec['f:template']['f:spec']['f:containers']).toHaveProperty(['k:{"name":"nginx"}', 'f:image']);
  });

  it('names the manager after the User-Agent when the request names none', () => {
    const obj = fromK8sJson<ApiObject>(CONFIGMAPS.typeName, { metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } });
    trackUpdate(CONFIGMAPS, undefined, obj, { userAgent: 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc123', now: T0 });
    expect(managers(obj)).toEqual(['kubectl/Update']);
  });

  it('keeps what a gRPC client cannot send and gives the writer what it changed', () => {
    const stored = create(DEPLOYMENTS, config(), 'kubectl-create');
    const next = update(DEPLOYMENTS, stored, (o) => (o.spec.replicas = 4), { fieldManager: 'kubectl-edit', now: T1 });
    expect(managers(next)).toEqual(['kubectl-create/Update', 'kubectl-edit/Update']);
    expect(fieldsOf(next, 'kubectl-edit')).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(fieldsOf(next, 'kubectl-create')['f:spec']).not.toHaveProperty('f:replicas');
  });

  it('resets on an empty list in the request JSON', () => {
    const stored = create(DEPLOYMENTS, config(), 'kubectl-create');
    const next = update(DEPLOYMENTS, stored, (o) => (o.spec.replicas = 4), { fieldManager: 'kubectl-edit', now: T1, requestManagedFields: [] });
    expect(next.metadata!.managedFields).toEqual([]);
  });

  it('leaves the managedFields alone on an update that changes nothing', () => {
    const stored = create(DEPLOYMENTS, config(), 'kubectl-create');
    const next = update(DEPLOYMENTS, stored, () => {}, { fieldManager: 'kubectl-edit', now: T2 });
    expect(next.metadata!.managedFields).toEqual(stored.metadata!.managedFields);
  });

  it('records status writes under the subresource, and never status through the main resource', () => {
    const stored = create(DEPLOYMENTS, config(), 'kubectl-create');
    const viaMain = update(DEPLOYMENTS, stored, (o) => (o.status = { ...(o.status ?? {}), replicas: 2 }), { fieldManager: 'ctl', now: T1 });
    expect(managers(viaMain)).toEqual(['kubectl-create/Update']);
    const viaStatus = update(DEPLOYMENTS, stored, (o) => (o.status = { ...(o.status ?? {}), replicas: 2 }), { fieldManager: 'ctl', subresource: 'status', now: T1 });
    expect(managers(viaStatus)).toEqual(['kubectl-create/Update', 'ctl/Update/status']);
    expect(fieldsOf(viaStatus, 'ctl')).toEqual({ 'f:status': { '.': {}, 'f:replicas': {} } }); // no status before: added whole
  });
});

describe('applyPatch', () => {
  const at = { fieldManager: 'kubectl', name: 'web', namespace: 'default' };

  it('creates a missing object: defaulted, owning only what the configuration sets', () => {
    const r = applyPatch(DEPLOYMENTS, undefined, config(), { ...at, now: T0 });
    expect(r.created).toBe(true);
    expect(r.object.spec.revisionHistoryLimit).toBe(10);
    expect(r.object.metadata!.namespace).toBe('default');
    expect(managers(r.object)).toEqual(['kubectl/Apply']);
    const spec = fieldsOf(r.object, 'kubectl')['f:spec'];
    expect(spec).toHaveProperty('f:replicas');
    expect(spec).not.toHaveProperty('f:revisionHistoryLimit');
  });

  it('answers a conflict as Kubernetes does: 409 Conflict with one FieldManagerConflict cause per field', () => {
    const stored = create(DEPLOYMENTS, config(2), 'kubectl-create');
    const err = apiError(() => applyPatch(DEPLOYMENTS, stored, config(3), { ...at, fieldManager: 'helm', now: T1 }));
    expect(err).toMatchObject({ httpCode: 409, reason: 'Conflict', message: 'Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.replicas' });
    expect(err.causes).toEqual([{ field: '.spec.replicas', type: 'FieldManagerConflict', message: 'conflict with "kubectl-create" using apps/v1' }]);
    const forced = applyPatch(DEPLOYMENTS, stored, config(3), { ...at, fieldManager: 'helm', force: true, now: T1 });
    expect(forced.object.spec.replicas).toBe(3);
    expect(forced.created).toBe(false);
  });

  it('reports an apply that changes nothing as unchanged, without touching the times', () => {
    const first = applyPatch(DEPLOYMENTS, undefined, config(), { ...at, now: T0 }).object;
    first.metadata!.uid = 'u-1';
    const again = applyPatch(DEPLOYMENTS, first, config(), { ...at, now: T2 });
    expect(again.changed).toBe(false);
    expect(again.object.metadata!.managedFields).toEqual(first.metadata!.managedFields);
  });

  it('refuses what Kubernetes refuses, with its codes and words', () => {
    expect(apiError(() => applyPatch(DEPLOYMENTS, undefined, config(), { ...at, name: 'other' }))).toMatchObject({
      httpCode: 400,
      message: 'the name of the object (web) does not match the name on the URL (other)',
    });
    expect(apiError(() => applyPatch(DEPLOYMENTS, undefined, { ...config(), apiVersion: 'apps/v1beta1' }, at))).toMatchObject({
      httpCode: 400,
      message: 'invalid object type: apps/v1beta1, Kind=Deployment',
    });
    const unknown = config();
    unknown.spec.replicaz = 1;
    expect(apiError(() => applyPatch(DEPLOYMENTS, undefined, unknown, at))).toMatchObject({
      httpCode: 500,
      message: 'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema',
    });
    const withUid = config();
    withUid.metadata.uid = 'x';
    expect(apiError(() => applyPatch(DEPLOYMENTS, undefined, withUid, at))).toMatchObject({ httpCode: 409, reason: 'Conflict' });
  });

  it('moves a client-side-applied object to server-side apply the way kubectl 1.32 does', () => {
    // 1. kubectl apply (client-side): a create with the annotation, manager kubectl-client-side-apply.
    const csa = config(2);
    csa.metadata.annotations = { [LAST_APPLIED]: `${JSON.stringify(config(2))}\n` };
    let stored = create(DEPLOYMENTS, csa, 'kubectl-client-side-apply');
    // 2. kubectl apply --server-side with a new replica count: forgiven, annotation kept current.
    const ssa = config(4);
    const applied = applyPatch(DEPLOYMENTS, stored, ssa, { ...at, now: T1 });
    expect(applied.object.spec.replicas).toBe(4);
    expect(JSON.parse(applied.object.metadata!.annotations![LAST_APPLIED])).toEqual(ssa);
    stored = applied.object;
    // 3. kubectl's migration: a JSON patch giving the client-side entry's fields to its apply entry.
    const entries = stored.metadata!.managedFields!;
    const csaFields = JSON.parse(entries.find((e) => e.manager === 'kubectl-client-side-apply')!.fieldsV1!.raw!);
    const mine = entries.find((e) => e.manager === 'kubectl')!;
    const merged = fieldSetFromFieldsV1(JSON.parse(mine.fieldsV1!.raw!)).union(fieldSetFromFieldsV1(csaFields)).toFieldsV1();
    const handedOver = [{ ...mine, fieldsV1: merged }];
    const next = structuredClone(stored);
    trackUpdate(DEPLOYMENTS, stored, next, { fieldManager: 'kubectl', now: T1, requestManagedFields: handedOver });
    expect(managers(next)).toEqual(['kubectl/Apply']);
    stored = next;
    // 4. A server-side apply without replicas: kubectl alone owns it now, so it is removed (and
    //    defaulted again to 1).
    const withoutReplicas = config();
    delete withoutReplicas.spec.replicas;
    const pruned = applyPatch(DEPLOYMENTS, stored, withoutReplicas, { ...at, now: T2 });
    expect(pruned.object.spec.replicas).toBe(1);
    expect(fieldsOf(pruned.object, 'kubectl')['f:spec']).not.toHaveProperty('f:replicas');
  });
});

describe('options and reset fields', () => {
  it('checks PatchOptions as Kubernetes does', () => {
    expect(apiError(() => checkPatchOptions(true, '', undefined)).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    expect(apiError(() => checkPatchOptions(false, 'x', true)).message).toBe('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
    expect(apiError(() => checkWriteOptions('UpdateOptions', 'bad\u0007name')).message).toBe(
      'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "bad\\u0007name": invalid character U+0007 (at position 3)',
    );
    expect(() => checkPatchOptions(true, 'kubectl', true)).not.toThrow();
    expect(() => checkWriteOptions('CreateOptions', 'kubectl-create')).not.toThrow();
  });

  it('resets status on the main resource of kinds with a status, and everything else on status', () => {
    expect(resetFieldsFor(DEPLOYMENTS, '')).toEqual(['status']);
    expect(resetFieldsFor(CONFIGMAPS, '')).toEqual([]);
    expect(resetFieldsFor(DEPLOYMENTS, 'status')).toEqual(['metadata', 'spec']);
  });
});
