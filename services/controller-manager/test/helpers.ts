// Shared test helpers: a fake cluster (the client library's fake clientset, a FakeClock, a
// shared informer factory), an event recorder that remembers, the apiserver's deletion rules
// (finalizers, propagation policies, namespaces' spec.finalizers) on top of the fake, and
// small object builders.
import { setMaxListeners } from 'events';
import * as grpc from '@grpc/grpc-js';
import type { appsv1, corev1 } from '@k8ts/api';
import {
  ApiError,
  type EventRecorder,
  FakeClock,
  type GenericResourceClient,
  InformerFactory,
  type KubeObject,
  type WorkQueue,
  RESOURCES,
  resourceFor,
  deepCopy,
  noopLogger,
  settle,
} from '@k8ts/client';
import { type FakeClientset, createFakeClientset } from '@k8ts/client/fake';
import type { Controller, ControllerContext } from '../src/controller';

export interface RecordedEvent {
  kind: string;
  name: string;
  type: string;
  reason: string;
  message: string;
}

export interface Harness {
  clock: FakeClock;
  cs: FakeClientset;
  informers: InformerFactory;
  ctx: ControllerContext;
  events: RecordedEvent[];
  /** Deletions as the apiserver semantics saw them (with propagation policy). */
  deletes: { resource: string; namespace: string; name: string; policy: string }[];
  /** Starts the informers and waits for them to sync. */
  start(): Promise<void>;
  /** Runs a controller's workers in the background until stop(). */
  run(c: Controller): void;
  stop(): Promise<void>;
  /** Lets watches deliver and handlers run. */
  settle(): Promise<void>;
  /** Advances the fake clock in small steps until `cond` holds (or gives up after `maxMs`). */
  until(cond: () => boolean | Promise<boolean>, maxMs?: number, stepMs?: number): Promise<void>;
}

export interface HarnessOptions {
  /** Emulate the apiserver's graceful deletion (finalizers, propagation policies). Default true. */
  apiserverDeletes?: boolean;
}

export function harness(objects: KubeObject[] = [], opts: HarnessOptions = {}): Harness {
  const clock = new FakeClock();
  const fake = createFakeClientset({ objects, clock });
  const deletes: Harness['deletes'] = [];
  const cs = opts.apiserverDeletes === false ? fake : withApiserverDeletes(fake, clock, deletes);
  const informers = new InformerFactory(cs, { clock });
  const events: RecordedEvent[] = [];
  const recorder: EventRecorder = {
    event: (o, type, reason, message) => {
      const obj = o as KubeObject & corev1.ObjectReference;
      events.push({ kind: obj.kind ?? '', name: obj.metadata?.name ?? obj.name ?? '', type, reason, message });
    },
    flush: async () => {},
    close: async () => {},
    dropped: 0,
  };
  const ctx: ControllerContext = { clientset: cs, informers, clock, logger: noopLogger, recorder: () => recorder };
  const abort = new AbortController();
  // Every controller, informer and sleep of a test listens on this one signal.
  setMaxListeners(0, abort.signal);
  const running: Promise<void>[] = [];
  const h: Harness = {
    clock,
    cs,
    informers,
    ctx,
    events,
    deletes,
    async start() {
      informers.start(abort.signal);
      if (!(await informers.waitForSync())) throw new Error('informers did not sync');
      await settle();
    },
    run(c) {
      running.push(c.run(abort.signal));
    },
    async stop() {
      abort.abort();
      await Promise.all(running);
      await informers.stop();
    },
    settle: () => settle(),
    async until(cond, maxMs = 60_000, stepMs = 10) {
      for (let t = 0; t <= maxMs; t += stepMs) {
        await settle();
        if (await cond()) return;
        await clock.advance(stepMs);
      }
      throw new Error(`condition not met within ${maxMs} ms of fake time`);
    },
  };
  return h;
}

/**
 * The apiserver's deletion rules over a fake clientset: a delete records its propagation
 * policy as a finalizer (Foreground: foregroundDeletion; Orphan: orphan); an object with
 * finalizers (or a namespace with spec.finalizers) gets deletionTimestamp instead of going;
 * an update that leaves a deleted object without finalizers removes it.
 */
export function withApiserverDeletes(fake: FakeClientset, clock: FakeClock, log: Harness['deletes']): FakeClientset {
  const t = fake.tracker;
  const wrapped = new Map<string, GenericResourceClient>();
  for (const info of RESOURCES) {
    const orig = fake.forKind(info.kind);
    const resource = info.kind.resource;
    const isNamespace = resource === 'namespaces';
    const removable = (o: KubeObject) =>
      !!o.metadata?.deletionTimestamp &&
      (o.metadata?.finalizers ?? []).length === 0 &&
      (!isNamespace || ((o as corev1.Namespace).spec?.finalizers ?? []).length === 0);
    const client: GenericResourceClient = {
      ...orig,
      delete: async (name, o = {}) => {
        const ns = info.kind.namespaced ? (o.namespace ?? '') : '';
        const current = t.get(resource, ns, name);
        if (!current) return orig.delete(name, o);
        if (o.preconditions?.uid && o.preconditions.uid !== current.metadata?.uid) {
          throw new ApiError(grpc.status.ABORTED, `Precondition failed: UID in precondition: ${o.preconditions.uid}`);
        }
        const policy = o.propagationPolicy ?? '';
        log.push({ resource, namespace: ns, name, policy });
        const next = deepCopy(current);
        const finalizers = [...(next.metadata?.finalizers ?? [])];
        if (!current.metadata?.deletionTimestamp) {
          if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
          if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
          if (policy === 'Background') finalizers.splice(0, finalizers.length, ...finalizers.filter((f) => f !== 'foregroundDeletion'));
        }
        next.metadata = { ...next.metadata, finalizers };
        const nsFinalizers = isNamespace ? ((next as corev1.Namespace).spec?.finalizers ?? []) : [];
        if (finalizers.length === 0 && nsFinalizers.length === 0) return orig.delete(name, o);
        if (!next.metadata.deletionTimestamp) {
          next.metadata.deletionTimestamp = new Date(clock.now()).toISOString();
          next.metadata.deletionGracePeriodSeconds = 0;
          if (isNamespace) (next as corev1.Namespace).status = { ...(next as corev1.Namespace).status, phase: 'Terminating' };
        }
        return t.put(info.kind, next);
      },
      update: async (obj, o) => {
        const out = await orig.update(obj, o);
        if (removable(out)) {
          t.remove(info.kind, out.metadata?.namespace ?? '', out.metadata?.name ?? '');
        }
        return out;
      },
    };
    wrapped.set(info.member, client);
  }
  const out: Record<string, unknown> = {
    tracker: fake.tracker,
    actions: fake.actions,
    prependReactor: fake.prependReactor,
    forKind: (kind: Parameters<FakeClientset['forKind']>[0]) => wrapped.get(resourceFor(kind).member),
    close: () => {},
  };
  for (const [member, client] of wrapped) out[member] = client;
  return out as unknown as FakeClientset;
}

// ---- builders --------------------------------------------------------------------------

export function labels(app: string): Record<string, string> {
  return { app };
}

export function podTemplate(app: string, image = 'echo:1'): corev1.PodTemplateSpec {
  return {
    metadata: { labels: labels(app) },
    spec: { containers: [{ name: 'c', image, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }], restartPolicy: 'Always' },
  };
}

export function replicaSet(name: string, replicas: number, app = name, extra: Partial<appsv1.ReplicaSetSpec> = {}): appsv1.ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', generation: 1, uid: `uid-${name}` },
    spec: { replicas, selector: { matchLabels: labels(app) }, template: podTemplate(app), ...extra },
  };
}

export function deployment(name: string, replicas: number, extra: Partial<appsv1.DeploymentSpec> = {}): appsv1.Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', generation: 1, uid: `uid-${name}` },
    spec: {
      replicas,
      selector: { matchLabels: labels(name) },
      template: podTemplate(name),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { strVal: '25%' }, maxUnavailable: { strVal: '25%' } } },
      revisionHistoryLimit: 10,
      ...extra,
    },
  };
}

export interface PodState {
  node?: string;
  phase?: string;
  ready?: boolean;
  /** When the pod became ready (ms). */
  readySince?: number;
  ip?: string;
  restarts?: number;
  created?: number;
  owner?: { kind: string; name: string; uid: string };
  labels?: Record<string, string>;
  deleting?: boolean;
}

export function pod(name: string, app: string, s: PodState = {}): corev1.Pod {
  const t = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const p: corev1.Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: s.labels ?? labels(app),
      creationTimestamp: t(s.created ?? Date.parse('2029-12-31T00:00:00Z')),
      ownerReferences: s.owner ? [{ apiVersion: s.owner.kind === 'Deployment' || s.owner.kind === 'ReplicaSet' ? 'apps/v1' : 'v1', kind: s.owner.kind, name: s.owner.name, uid: s.owner.uid, controller: true, blockOwnerDeletion: true }] : [],
    },
    spec: { nodeName: s.node ?? '', containers: [{ name: 'c', image: 'echo:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] },
    status: {
      phase: s.phase ?? 'Running',
      podIP: s.ip ?? '',
      conditions: s.ready === undefined ? [] : [{ type: 'Ready', status: s.ready ? 'True' : 'False', lastTransitionTime: t(s.readySince ?? Date.parse('2029-12-31T00:00:00Z')) }],
      containerStatuses: [{ name: 'c', restartCount: s.restarts ?? 0, ready: !!s.ready }],
    },
  };
  if (s.deleting) p.metadata!.deletionTimestamp = new Date().toISOString();
  return p;
}

/** Every object of a resource in the fake, as stored. */
export function all<T extends KubeObject>(cs: FakeClientset, resource: string): T[] {
  return cs.tracker.list(resource) as T[];
}

/** Takes every queued key off a workqueue (for tests that call reconcile directly). */
export async function drain(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const k = await queue.get();
    if (k === undefined) break;
    keys.push(k);
    queue.done(k);
  }
  return keys;
}
