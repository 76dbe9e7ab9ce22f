// Subresources that are not plain object writes: pods/binding (the scheduler's Bind) and
// the scale subresource of Deployments and ReplicaSets.
import { type appsv1, type corev1, kindFor, type KindInfo } from '@k8ts/api';
import { labelSelectorAsSelector } from '@k8ts/machinery';
import { badRequest, conflict, invalid } from '../errors';
import type { ApiObject } from '../strategies/types';
import { type WriteContext, trackUpdate } from '../fieldmanager';
import { clone, nowRFC3339 } from '../util';
import type { Registry } from './registry';

const PODS = kindFor('v1', 'Pod')!;

/**
 * Binds a pod to a node: sets spec.nodeName once (a pod that already has a node, or is being
 * deleted, gives ABORTED), sets the PodScheduled condition, and copies the binding's
 * annotations onto the pod, as Kubernetes' binding REST does.
 */
export async function bindPod(registry: Registry, binding: corev1.Binding | undefined): Promise<corev1.Pod> {
  if (!binding) throw badRequest('the request carries no Binding');
  const meta = binding.metadata ?? {};
  const namespace = meta.namespace || 'default';
  const name = meta.name ?? '';
  const node = binding.target?.name ?? '';
  const errors = [];
  if (!name) errors.push({ field: 'metadata.name', type: 'FieldValueRequired', message: 'Required value' });
  if (!node) errors.push({ field: 'target.name', type: 'FieldValueRequired', message: 'Required value' });
  if (binding.target?.kind && binding.target.kind !== 'Node') {
    errors.push({ field: 'target.kind', type: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(binding.target.kind)}: supported values: "Node"` });
  }
  if (errors.length > 0) throw invalid('Binding', '', name, errors);
  const pod = await registry.guaranteedUpdate(PODS, namespace, name, (cur) => {
    const p = cur as corev1.Pod;
    const m = p.metadata!;
    if (meta.uid && meta.uid !== m.uid) throw conflict('pods', '', name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${m.uid}`);
    if (m.deletionTimestamp) throw conflict('pods', '', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (p.spec?.nodeName) throw conflict('pods', '', name, `pod ${name} is already assigned to node "${p.spec.nodeName}"`);
    p.spec!.nodeName = node;
    for (const [k, v] of Object.entries(meta.annotations ?? {})) (m.annotations ??= {})[k] = v;
    const status = (p.status ??= {} as corev1.PodStatus);
    const conditions = (status.conditions ??= []);
    const now = nowRFC3339();
    const existing = conditions.find((c) => c.type === 'PodScheduled');
    if (existing) {
      if (existing.status !== 'True') existing.lastTransitionTime = now;
      existing.status = 'True';
      existing.reason = '';
      existing.message = '';
    } else conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: now, reason: '', message: '', observedGeneration: 0 });
    return p;
  });
  return pod as corev1.Pod;
}

interface ScalableSpec {
  replicas?: number;
  selector?: import('@k8ts/api').metav1.LabelSelector;
}

/** The Scale of a Deployment or ReplicaSet; status.selector is its selector's text, requirements sorted by key. */
function toScale(obj: ApiObject): appsv1.Scale {
  const spec = obj.spec as ScalableSpec | undefined;
  const m = obj.metadata ?? {};
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      labels: {},
      annotations: {},
      ownerReferences: [],
      finalizers: [],
    },
    spec: { replicas: spec?.replicas ?? 0 },
    status: { replicas: (obj.status as { replicas?: number } | undefined)?.replicas ?? 0, selector: labelSelectorAsSelector(spec?.selector).toString() },
  };
}

export async function getScale(registry: Registry, kind: KindInfo, namespace: string, name: string): Promise<appsv1.Scale> {
  return toScale(await registry.get(kind, namespace || 'default', name));
}

/** Sets spec.replicas through the scale subresource (a resourceVersion in the Scale guards it). */
export async function updateScale(registry: Registry, kind: KindInfo, scale: appsv1.Scale | undefined, writer: WriteContext = {}): Promise<appsv1.Scale> {
  if (!scale) throw badRequest('the request carries no Scale');
  const meta = scale.metadata ?? {};
  const name = meta.name ?? '';
  const replicas = scale.spec?.replicas ?? 0;
  if (replicas < 0) {
    throw invalid('Scale', 'autoscaling', name, [
      { field: 'spec.replicas', type: 'FieldValueInvalid', message: `Invalid value: ${replicas}: must be greater than or equal to 0` },
    ]);
  }
  const obj = await registry.guaranteedUpdate(
    kind,
    meta.namespace || 'default',
    name,
    (cur) => {
      const before = clone(cur);
      (cur.spec as ScalableSpec).replicas = replicas;
      trackUpdate(kind, before, cur, { ...writer, subresource: 'scale' });
      return cur;
    },
    { fixedRV: meta.resourceVersion || undefined },
  );
  return toScale(obj);
}
