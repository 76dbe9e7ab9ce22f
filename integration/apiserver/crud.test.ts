// The resource API over real processes (store, apiserver) and real clients: create, get,
// list, update and delete of every kind; conflicts; validation errors with field paths;
// selectors; pagination at one revision; watch resume and OUT_OF_RANGE; the objects as the
// real etcdctl sees them in the store.
import * as grpc from '@grpc/grpc-js';
import { KINDS, metav1 } from '@k8ts/api';
import { objectKey, serviceIPKey, statusFromMetadata } from '@k8ts/machinery';
import { type Apiserver, type Store, call, collect, etcdctl, eventually, expectCode, requireBuild, startApiserver, startStore } from './harness';
import { TOKENS, authArgs, authFiles, clientFor, field, kind, methods, sample } from './fixtures';

const { WATCH_EVENT_TYPE_ADDED: ADDED, WATCH_EVENT_TYPE_MODIFIED: MODIFIED, WATCH_EVENT_TYPE_DELETED: DELETED, WATCH_EVENT_TYPE_BOOKMARK: BOOKMARK } =
  metav1.WatchEventType;
const T = TOKENS.admin;

let store: Store;
let apiserver: Apiserver;
const clients: grpc.Client[] = [];

function client(k: string): grpc.Client {
  const c = clientFor(kind(k), apiserver.address);
  clients.push(c);
  return c;
}

function statusOf(err: grpc.ServiceError): metav1.Status | undefined {
  return statusFromMetadata(err.metadata);
}

beforeAll(async () => {
  requireBuild();
  store = await startStore();
  apiserver = await startApiserver(store, authArgs(authFiles()));
  await call(client('Namespace'), 'createNamespace', { namespace: { metadata: { name: 'crud' } } }, T);
}, 120000);

afterAll(async () => {
  for (const c of clients) c.close();
  await apiserver?.stop();
  await store?.stop();
});

describe('every kind', () => {
  it.each(KINDS.map((k) => [k.kind]))('%s: create, get, list, update, delete', async (kindName) => {
    const k = kind(kindName);
    const c = client(kindName);
    const m = methods(k);
    const f = field(k);
    const name = `crud-${k.resource}`;
    const created = (await call(c, m.create, { [f]: sample(k, name, 'crud') }, T))[f];
    expect(created.metadata.name).toBe(name);
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(created.metadata.creationTimestamp).toBeTruthy();
    expect(created.metadata.generation).toBe(1);
    if (k.namespaced) expect(created.metadata.namespace).toBe('crud');

    const got = (await call(c, m.get, k.namespaced ? { namespace: 'crud', name } : { name }, T))[f];
    expect(got.metadata.uid).toBe(created.metadata.uid);
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);

    const list = await call(c, m.list, k.namespaced ? { namespace: 'crud' } : {}, T);
    expect(list.items.map((i: any) => i.metadata.name)).toContain(name);
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));

    const changed = { ...got, metadata: { ...got.metadata, labels: { ...got.metadata.labels, updated: 'yes' } } };
    const updated = (await call(c, m.update, { [f]: changed }, T))[f];
    expect(updated.metadata.labels.updated).toBe('yes');
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(got.metadata.resourceVersion));

    await expectCode(call(c, m.create, { [f]: sample(k, name, 'crud') }, T), grpc.status.ALREADY_EXISTS);

    const id = k.namespaced ? { namespace: 'crud', name } : { name };
    await call(c, m.delete, id, T);
    if (k.kind === 'Namespace') {
      // A namespace goes Terminating until the namespace controller empties it.
      const ns = (await call(c, m.get, id, T))[f];
      expect(ns.metadata.deletionTimestamp).toBeTruthy();
      expect(ns.status.phase).toBe('Terminating');
    } else {
      await expectCode(call(c, m.get, id, T), grpc.status.NOT_FOUND);
    }
  });
});

describe('storage', () => {
  it('keeps objects under /kubernetes.io/<resource>/<namespace>/<name> as JSON, as etcdctl shows', async () => {
    const pods = client('Pod');
    await call(pods, 'createPod', { pod: sample(kind('Pod'), 'stored', 'crud') }, T);
    const out = await etcdctl(store, ['get', '/kubernetes.io/pods/crud/stored', '--print-value-only']);
    const json = JSON.parse(out);
    expect(json).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stored', namespace: 'crud' } });
    expect(json.spec.containers[0]).toMatchObject({ name: 'app', image: 'k8ts/echo', terminationMessagePath: '/dev/termination-log' });
    expect(json.metadata.resourceVersion).toBeUndefined();
    const keys = await etcdctl(store, ['get', '/kubernetes.io/namespaces/', '--prefix', '--keys-only']);
    expect(keys.split('\n').filter(Boolean)).toEqual(
      expect.arrayContaining(['/kubernetes.io/namespaces/default', '/kubernetes.io/namespaces/kube-system', '/kubernetes.io/namespaces/kube-public', '/kubernetes.io/namespaces/crud']),
    );
  });

  it('stores events with a lease (their TTL)', async () => {
    await call(client('Event'), 'createEvent', { event: sample(kind('Event'), 'ttl', 'crud') }, T);
    const out = JSON.parse(await etcdctl(store, ['get', objectKey(kind('Event'), 'crud', 'ttl'), '-w', 'json']));
    expect(Number(out.kvs[0].lease)).not.toBe(0);
  });
});

describe('optimistic concurrency', () => {
  it('refuses a stale resourceVersion with ABORTED naming the object', async () => {
    const cms = client('ConfigMap');
    const cm = (await call(cms, 'createConfigMap', { configMap: sample(kind('ConfigMap'), 'cas', 'crud') }, T)).configMap;
    await call(cms, 'updateConfigMap', { configMap: { ...cm, data: { key: 'v2' } } }, T);
    const err = await expectCode(call(cms, 'updateConfigMap', { configMap: { ...cm, data: { key: 'v3' } } }, T), grpc.status.ABORTED);
    expect(err.details).toBe(
      'Operation cannot be fulfilled on configmaps "cas": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(statusOf(err)).toMatchObject({ reason: 'Conflict', code: 409 });
    // Without a resourceVersion the update applies to the latest state.
    const { configMap } = await call(cms, 'updateConfigMap', { configMap: { metadata: { name: 'cas', namespace: 'crud' }, data: { key: 'v4' } } }, T);
    expect(configMap.data.key).toBe('v4');
  });

  it('checks delete preconditions', async () => {
    const cms = client('ConfigMap');
    const cm = (await call(cms, 'createConfigMap', { configMap: sample(kind('ConfigMap'), 'pre', 'crud') }, T)).configMap;
    const err = await expectCode(call(cms, 'deleteConfigMap', { namespace: 'crud', name: 'pre', preconditions: { uid: 'not-the-uid' } }, T), grpc.status.ABORTED);
    expect(err.details).toContain('Precondition failed: UID in precondition: not-the-uid');
    await call(cms, 'deleteConfigMap', { namespace: 'crud', name: 'pre', preconditions: { uid: cm.metadata.uid, resourceVersion: cm.metadata.resourceVersion } }, T);
  });
});

describe('validation', () => {
  it('lists every bad field with its path in one INVALID_ARGUMENT and a Status with causes', async () => {
    const bad = {
      metadata: { name: 'Bad_Name', namespace: 'crud', labels: { 'bad key!': 'v' } },
      spec: {
        restartPolicy: 'Sometimes',
        containers: [
          { name: 'ok', image: 'x', ports: [{ containerPort: 70000 }] },
          { name: 'ok', image: '' },
        ],
      },
    };
    const err = await expectCode(call(client('Pod'), 'createPod', { pod: bad }, T), grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^Pod "Bad_Name" is invalid: \[/);
    const status = statusOf(err)!;
    expect(status).toMatchObject({ reason: 'Invalid', code: 422 });
    const fields = status.details!.causes!.map((c) => c.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'metadata.name',
        'metadata.labels',
        'spec.restartPolicy',
        'spec.containers[0].ports[0].containerPort',
        'spec.containers[1].name',
        'spec.containers[1].image',
      ]),
    );
    const dup = status.details!.causes!.find((c) => c.field === 'spec.containers[1].name')!;
    expect(dup).toMatchObject({ reason: 'FieldValueDuplicate', message: 'Duplicate value: "ok"' });
  });

  it('checks that a Deployment selector matches its template, and immutable fields on update', async () => {
    const deps = client('Deployment');
    const d = sample(kind('Deployment'), 'sel', 'crud');
    d.spec.template.metadata.labels = { app: 'other' };
    const err = await expectCode(call(deps, 'createDeployment', { deployment: d }, T), grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`');
    const ok = (await call(deps, 'createDeployment', { deployment: sample(kind('Deployment'), 'sel', 'crud') }, T)).deployment;
    expect(ok.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxSurge: { strVal: '25%' }, maxUnavailable: { strVal: '25%' } } });
    expect(ok.spec.revisionHistoryLimit).toBe(10);
    const changed = { ...ok, spec: { ...ok.spec, selector: { matchLabels: { app: 'sel', tier: 'x' } } } };
    changed.spec.template = { ...ok.spec.template, metadata: { labels: { app: 'sel', tier: 'x' } } };
    const err2 = await expectCode(call(deps, 'updateDeployment', { deployment: changed }, T), grpc.status.INVALID_ARGUMENT);
    expect(err2.details).toContain('spec.selector: Invalid value');
    expect(err2.details).toContain('field is immutable');
  });
});

describe('jobs', () => {
  it('creates a Job with its defaults and a selector generated from its uid; refuses restartPolicy Always with the field path', async () => {
    const jobs = client('Job');
    const input = {
      metadata: { name: 'pi', namespace: 'crud' },
      spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'pi', image: 'k8ts/echo' }] } } },
    };
    const created = (await call(jobs, 'createJob', { job: input }, T)).job;
    const uid = created.metadata.uid;
    const { job } = await call(jobs, 'getJob', { namespace: 'crud', name: 'pi' }, T);
    expect(job.metadata.uid).toBe(uid);
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.spec).toMatchObject({ parallelism: 1, completions: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, manualSelector: false });
    expect(job.spec.selector.matchLabels).toEqual({ 'batch.kubernetes.io/controller-uid': uid });
    expect(job.spec.template.metadata.labels).toEqual({
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': uid,
      'job-name': 'pi',
    });
    expect(job.spec.template.spec.restartPolicy).toBe('OnFailure');
    expect(job.status).toMatchObject({ active: 0, succeeded: 0, failed: 0 });
    const stored = JSON.parse(await etcdctl(store, ['get', objectKey(kind('Job'), 'crud', 'pi'), '--print-value-only']));
    expect(stored).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job', spec: { selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } } } });

    // A work queue: parallelism only, completions stays unset.
    const queue = { ...input, metadata: { name: 'queue', namespace: 'crud' }, spec: { ...input.spec, parallelism: 3 } };
    const q = (await call(jobs, 'createJob', { job: queue }, T)).job;
    expect(q.spec.parallelism).toBe(3);
    expect(q.spec.completions).toBeUndefined();

    const always = { metadata: { name: 'always', namespace: 'crud' }, spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'pi', image: 'k8ts/echo' }] } } } };
    const err = await expectCode(call(jobs, 'createJob', { job: always }, T), grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('Job "always" is invalid');
    expect(err.details).toContain('spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
    const cause = statusOf(err)!.details!.causes!.find((c) => c.field === 'spec.template.spec.restartPolicy');
    expect(cause).toMatchObject({ reason: 'FieldValueNotSupported' });

    // The template and completions cannot change; parallelism can.
    const scaled = (await call(jobs, 'updateJob', { job: { ...job, spec: { ...job.spec, parallelism: 2 } } }, T)).job;
    expect(scaled.spec.parallelism).toBe(2);
    const err2 = await expectCode(call(jobs, 'updateJob', { job: { ...scaled, spec: { ...scaled.spec, completions: 2 } } }, T), grpc.status.INVALID_ARGUMENT);
    expect(err2.details).toContain('spec.completions: Invalid value: 2: field is immutable');
  });
});

describe('status, generation and subresources', () => {
  it('Update ignores status, UpdateStatus ignores spec, generation follows the spec', async () => {
    const rss = client('ReplicaSet');
    const rs = (await call(rss, 'createReplicaSet', { replicaSet: sample(kind('ReplicaSet'), 'gen', 'crud') }, T)).replicaSet;
    expect(rs.metadata.generation).toBe(1);
    const u1 = (await call(rss, 'updateReplicaSet', { replicaSet: { ...rs, spec: { ...rs.spec, replicas: 5 }, status: { replicas: 99 } } }, T)).replicaSet;
    expect(u1.metadata.generation).toBe(2);
    expect(u1.status.replicas).toBe(0);
    const u2 = (await call(rss, 'updateReplicaSetStatus', { replicaSet: { ...u1, spec: { ...u1.spec, replicas: 1 }, status: { replicas: 5, readyReplicas: 3, observedGeneration: 2 } } }, T))
      .replicaSet;
    expect(u2.spec.replicas).toBe(5);
    expect(u2.status).toMatchObject({ replicas: 5, readyReplicas: 3 });
    expect(u2.metadata.generation).toBe(2);
    const u3 = (await call(rss, 'updateReplicaSet', { replicaSet: { ...u2, metadata: { ...u2.metadata, labels: { x: 'y' } } } }, T)).replicaSet;
    expect(u3.metadata.generation).toBe(2);
  });

  it('scales Deployments and ReplicaSets through the scale subresource', async () => {
    const deps = client('Deployment');
    await call(deps, 'createDeployment', { deployment: sample(kind('Deployment'), 'scaled', 'crud') }, T);
    const { scale } = await call(deps, 'getDeploymentScale', { namespace: 'crud', name: 'scaled' }, T);
    expect(scale.spec.replicas).toBe(2);
    expect(scale.status.selector).toBe('app=scaled');
    const after = (await call(deps, 'updateDeploymentScale', { scale: { metadata: { name: 'scaled', namespace: 'crud' }, spec: { replicas: 7 } } }, T)).scale;
    expect(after.spec.replicas).toBe(7);
    const d = (await call(deps, 'getDeployment', { namespace: 'crud', name: 'scaled' }, T)).deployment;
    expect(d.spec.replicas).toBe(7);
    expect(d.metadata.generation).toBe(2);
    await expectCode(
      call(deps, 'updateDeploymentScale', { scale: { metadata: { name: 'scaled', namespace: 'crud', resourceVersion: scale.metadata.resourceVersion }, spec: { replicas: 1 } } }, T),
      grpc.status.ABORTED,
    );
    const rss = client('ReplicaSet');
    await call(rss, 'createReplicaSet', { replicaSet: sample(kind('ReplicaSet'), 'scaled', 'crud') }, T);
    expect((await call(rss, 'updateReplicaSetScale', { scale: { metadata: { name: 'scaled', namespace: 'crud' }, spec: { replicas: 0 } } }, T)).scale.spec.replicas).toBe(0);
  });

  it('binds a pod once; a second bind is ABORTED', async () => {
    const pods = client('Pod');
    await call(pods, 'createPod', { pod: sample(kind('Pod'), 'bound', 'crud') }, T);
    await call(pods, 'bindPod', { binding: { metadata: { name: 'bound', namespace: 'crud' }, target: { kind: 'Node', name: 'n1' } } }, T);
    const pod = (await call(pods, 'getPod', { namespace: 'crud', name: 'bound' }, T)).pod;
    expect(pod.spec.nodeName).toBe('n1');
    expect(pod.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]));
    const err = await expectCode(
      call(pods, 'bindPod', { binding: { metadata: { name: 'bound', namespace: 'crud' }, target: { kind: 'Node', name: 'n2' } } }, T),
      grpc.status.ABORTED,
    );
    expect(err.details).toBe('Operation cannot be fulfilled on pods "bound": pod bound is already assigned to node "n1"');
  });
});

describe('deletion', () => {
  it('gives a bound pod its grace period; grace 0 removes it', async () => {
    const pods = client('Pod');
    await call(pods, 'createPod', { pod: sample(kind('Pod'), 'graceful', 'crud') }, T);
    await call(pods, 'bindPod', { binding: { metadata: { name: 'graceful', namespace: 'crud' }, target: { name: 'n1' } } }, T);
    const { pod } = await call(pods, 'deletePod', { namespace: 'crud', name: 'graceful' }, T);
    expect(pod.metadata.deletionTimestamp).toBeTruthy();
    expect(pod.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await call(pods, 'getPod', { namespace: 'crud', name: 'graceful' }, T)).pod.metadata.deletionTimestamp).toBeTruthy();
    await call(pods, 'deletePod', { namespace: 'crud', name: 'graceful', gracePeriodSeconds: 0 }, T);
    await expectCode(call(pods, 'getPod', { namespace: 'crud', name: 'graceful' }, T), grpc.status.NOT_FOUND);
  });

  it('keeps an object with finalizers until they are removed, and records the propagation policy', async () => {
    const cms = client('ConfigMap');
    const obj = sample(kind('ConfigMap'), 'final', 'crud');
    obj.metadata.finalizers = ['example.com/cleanup'];
    await call(cms, 'createConfigMap', { configMap: obj }, T);
    const { configMap } = await call(cms, 'deleteConfigMap', { namespace: 'crud', name: 'final', propagationPolicy: 'Foreground' }, T);
    expect(configMap.metadata.deletionTimestamp).toBeTruthy();
    expect(configMap.metadata.finalizers).toEqual(['example.com/cleanup', 'foregroundDeletion']);
    const cur = (await call(cms, 'getConfigMap', { namespace: 'crud', name: 'final' }, T)).configMap;
    await call(cms, 'updateConfigMap', { configMap: { ...cur, metadata: { ...cur.metadata, finalizers: [] } } }, T);
    await expectCode(call(cms, 'getConfigMap', { namespace: 'crud', name: 'final' }, T), grpc.status.NOT_FOUND);
  });
});

describe('namespaces', () => {
  it('refuses content in missing and terminating namespaces, and protects the system ones', async () => {
    const cms = client('ConfigMap');
    const nss = client('Namespace');
    const err = await expectCode(call(cms, 'createConfigMap', { configMap: sample(kind('ConfigMap'), 'x', 'nowhere') }, T), grpc.status.NOT_FOUND);
    expect(err.details).toBe('namespaces "nowhere" not found');
    await call(nss, 'createNamespace', { namespace: { metadata: { name: 'doomed' } } }, T);
    await call(nss, 'deleteNamespace', { name: 'doomed' }, T);
    const err2 = await expectCode(call(cms, 'createConfigMap', { configMap: sample(kind('ConfigMap'), 'x', 'doomed') }, T), grpc.status.FAILED_PRECONDITION);
    expect(err2.details).toBe('configmaps "x" is forbidden: unable to create new content in namespace doomed because it is being terminated');
    // The namespace controller's last step: the spec finalizer goes, and so does the namespace.
    const ns = (await call(nss, 'getNamespace', { name: 'doomed' }, T)).namespace;
    await call(nss, 'updateNamespace', { namespace: { ...ns, spec: { finalizers: [] } } }, T);
    await expectCode(call(nss, 'getNamespace', { name: 'doomed' }, T), grpc.status.NOT_FOUND);
    const err3 = await expectCode(call(nss, 'deleteNamespace', { name: 'default' }, T), grpc.status.FAILED_PRECONDITION);
    expect(err3.details).toBe('namespaces "default" is forbidden: this namespace may not be deleted');
  });

  it('gives pods the default service account and the default tolerations', async () => {
    const { pod } = await call(client('Pod'), 'createPod', { pod: sample(kind('Pod'), 'admitted', 'crud') }, T);
    expect(pod.spec.serviceAccountName).toBe('default');
    expect(pod.spec.tolerations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', tolerationSeconds: 300 }),
        expect.objectContaining({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', tolerationSeconds: 300 }),
      ]),
    );
    const other = sample(kind('Pod'), 'other-sa', 'crud');
    other.spec.serviceAccountName = 'missing';
    await expectCode(call(client('Pod'), 'createPod', { pod: other }, T), grpc.status.FAILED_PRECONDITION);
  });
});

describe('services', () => {
  it('allocates cluster IPs and node ports without duplicates, and releases them on delete', async () => {
    const svcs = client('Service');
    const a = (await call(svcs, 'createService', { service: sample(kind('Service'), 'svc-a', 'crud') }, T)).service;
    expect(a.spec.clusterIP).toMatch(/^127\.96\.\d+\.\d+$/);
    expect(a.spec.clusterIPs).toEqual([a.spec.clusterIP]);
    expect(a.spec.ports[0]).toMatchObject({ protocol: 'TCP', targetPort: { intVal: 8080 } });
    const np = sample(kind('Service'), 'svc-np', 'crud');
    np.spec.type = 'NodePort';
    const b = (await call(svcs, 'createService', { service: np }, T)).service;
    expect(b.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(b.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    expect(await etcdctl(store, ['get', serviceIPKey(a.spec.clusterIP), '--print-value-only'])).toContain('svc-a');

    // A user-chosen IP that is taken, and one outside the range.
    const dup = sample(kind('Service'), 'svc-dup', 'crud');
    dup.spec.clusterIP = a.spec.clusterIP;
    const err = await expectCode(call(svcs, 'createService', { service: dup }, T), grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain(`spec.clusterIPs: Invalid value: ["${a.spec.clusterIP}"]: failed to allocate IP ${a.spec.clusterIP}: provided IP is already allocated`);
    const out = sample(kind('Service'), 'svc-out', 'crud');
    out.spec.clusterIP = '10.0.0.1';
    await expectCode(call(svcs, 'createService', { service: out }, T), grpc.status.INVALID_ARGUMENT);
    const port = sample(kind('Service'), 'svc-port', 'crud');
    port.spec.type = 'NodePort';
    port.spec.ports[0].nodePort = b.spec.ports[0].nodePort;
    const err2 = await expectCode(call(svcs, 'createService', { service: port }, T), grpc.status.INVALID_ARGUMENT);
    expect(err2.details).toContain('spec.ports[0].nodePort: Invalid value');
    expect(err2.details).toContain('provided port is already allocated');

    // Released on delete: the same values can be taken again.
    await call(svcs, 'deleteService', { namespace: 'crud', name: 'svc-a' }, T);
    await call(svcs, 'deleteService', { namespace: 'crud', name: 'svc-np' }, T);
    expect((await call(svcs, 'createService', { service: dup }, T)).service.spec.clusterIP).toBe(a.spec.clusterIP);
    expect((await call(svcs, 'createService', { service: port }, T)).service.spec.ports[0].nodePort).toBe(b.spec.ports[0].nodePort);

    // An update keeps the allocated values when the client leaves them out; the IP cannot change.
    const cur = (await call(svcs, 'getService', { namespace: 'crud', name: 'svc-dup' }, T)).service;
    const kept = (await call(svcs, 'updateService', { service: { metadata: cur.metadata, spec: { ...cur.spec, clusterIP: '', clusterIPs: [] } } }, T)).service;
    expect(kept.spec.clusterIP).toBe(a.spec.clusterIP);
    // (The update above wrote: its manager now owns the cleared fields in managedFields.)
    await expectCode(call(svcs, 'updateService', { service: { metadata: kept.metadata, spec: { ...kept.spec, clusterIP: '127.96.9.9', clusterIPs: ['127.96.9.9'] } } }, T), grpc.status.INVALID_ARGUMENT);
  });
});

describe('selectors and pagination', () => {
  beforeAll(async () => {
    const nss = client('Namespace');
    await call(nss, 'createNamespace', { namespace: { metadata: { name: 'sel' } } }, T);
    const pods = client('Pod');
    for (let i = 0; i < 7; i++) {
      const p = sample(kind('Pod'), `p${i}`, 'sel');
      p.metadata.labels = { app: i % 2 === 0 ? 'web' : 'db', idx: String(i) };
      if (i < 2) p.spec.nodeName = 'n1';
      await call(pods, 'createPod', { pod: p }, T);
    }
  });

  it('filters by label selectors', async () => {
    const pods = client('Pod');
    const names = async (labelSelector: string) =>
      (await call(pods, 'listPods', { namespace: 'sel', labelSelector }, T)).items.map((p: any) => p.metadata.name).sort();
    expect(await names('app=web')).toEqual(['p0', 'p2', 'p4', 'p6']);
    expect(await names('app!=web')).toEqual(['p1', 'p3', 'p5']);
    expect(await names('idx in (1,2,3),app==db')).toEqual(['p1', 'p3']);
    expect(await names('idx notin (0,1,2,3,4)')).toEqual(['p5', 'p6']);
    expect(await names('idx')).toHaveLength(7);
    expect(await names('!idx')).toEqual([]);
    const err = await expectCode(call(pods, 'listPods', { namespace: 'sel', labelSelector: 'app in (web' }, T), grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('unable to parse');
  });

  it('filters by field selectors', async () => {
    const pods = client('Pod');
    const names = async (fieldSelector: string) =>
      (await call(pods, 'listPods', { namespace: 'sel', fieldSelector }, T)).items.map((p: any) => p.metadata.name).sort();
    expect(await names('spec.nodeName=n1')).toEqual(['p0', 'p1']);
    expect(await names('metadata.name=p3')).toEqual(['p3']);
    expect(await names('status.phase=Pending,spec.nodeName!=n1')).toEqual(['p2', 'p3', 'p4', 'p5', 'p6']);
    const err = await expectCode(call(pods, 'listPods', { namespace: 'sel', fieldSelector: 'spec.bogus=1' }, T), grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe('field label not supported: spec.bogus');
  });

  it('pages a list at one revision, and a continue at a compacted revision is OUT_OF_RANGE', async () => {
    const pods = client('Pod');
    const first = await call(pods, 'listPods', { namespace: 'sel', limit: 3 }, T);
    expect(first.items.map((p: any) => p.metadata.name)).toEqual(['p0', 'p1', 'p2']);
    expect(first.metadata.continue).not.toBe('');
    // A change between pages does not show up in later pages.
    await call(pods, 'createPod', { pod: sample(kind('Pod'), 'p3a', 'sel') }, T);
    await call(pods, 'deletePod', { namespace: 'sel', name: 'p5' }, T);
    const second = await call(pods, 'listPods', { namespace: 'sel', limit: 3, continue: first.metadata.continue }, T);
    expect(second.items.map((p: any) => p.metadata.name)).toEqual(['p3', 'p4', 'p5']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = await call(pods, 'listPods', { namespace: 'sel', limit: 3, continue: second.metadata.continue }, T);
    expect(third.items.map((p: any) => p.metadata.name)).toEqual(['p6']);
    expect(third.metadata.continue).toBe('');

    const again = await call(pods, 'listPods', { namespace: 'sel', limit: 2 }, T);
    await call(pods, 'createPod', { pod: sample(kind('Pod'), 'p9', 'sel') }, T);
    const rev = JSON.parse(await etcdctl(store, ['get', objectKey(kind('Pod'), 'sel', 'p9'), '-w', 'json'])).header.revision;
    await etcdctl(store, ['compact', String(rev)]);
    const err = await expectCode(call(pods, 'listPods', { namespace: 'sel', limit: 2, continue: again.metadata.continue }, T), grpc.status.OUT_OF_RANGE);
    expect(err.details).toContain('continue parameter is too old');
    await expectCode(call(pods, 'listPods', { namespace: 'sel', continue: 'garbage' }, T), grpc.status.INVALID_ARGUMENT);
  });
});

describe('watch', () => {
  it('resumes from a resourceVersion and filters by selector (moving out is DELETED, in is ADDED)', async () => {
    const cms = client('ConfigMap');
    const list = await call(cms, 'listConfigMaps', { namespace: 'crud' }, T);
    const w = collect(cms, 'watchConfigMaps', { namespace: 'crud', labelSelector: 'watched=yes', resourceVersion: list.metadata.resourceVersion }, T);
    const a = sample(kind('ConfigMap'), 'w-a', 'crud');
    a.metadata.labels = { watched: 'yes' };
    const created = (await call(cms, 'createConfigMap', { configMap: a }, T)).configMap;
    await call(cms, 'createConfigMap', { configMap: sample(kind('ConfigMap'), 'w-b', 'crud') }, T);
    const moved = (await call(cms, 'updateConfigMap', { configMap: { ...created, metadata: { ...created.metadata, labels: { watched: 'no' } } } }, T)).configMap;
    const back = (await call(cms, 'updateConfigMap', { configMap: { ...moved, metadata: { ...moved.metadata, labels: { watched: 'yes' } } } }, T)).configMap;
    await call(cms, 'updateConfigMap', { configMap: { ...back, data: { key: 'changed' } } }, T);
    await call(cms, 'deleteConfigMap', { namespace: 'crud', name: 'w-a' }, T);
    const events = await w.until((e) => e.length >= 5);
    expect(events.map((e: any) => [e.type, e.object.metadata.name])).toEqual([
      [ADDED, 'w-a'],
      [DELETED, 'w-a'],
      [ADDED, 'w-a'],
      [MODIFIED, 'w-a'],
      [DELETED, 'w-a'],
    ]);
    expect(events[1].object.metadata.resourceVersion).toBe(moved.metadata.resourceVersion);
    w.cancel();

    // Resume from the middle: only what came after.
    const w2 = collect(cms, 'watchConfigMaps', { namespace: 'crud', labelSelector: 'watched=yes', resourceVersion: events[2].object.metadata.resourceVersion }, T);
    const rest = await w2.until((e) => e.length >= 2);
    expect(rest.map((e: any) => e.type)).toEqual([MODIFIED, DELETED]);
    w2.cancel();
  });

  it('starts with the current objects when no resourceVersion is given, and sends bookmarks when asked', async () => {
    const pods = client('Pod');
    const w = collect(pods, 'watchPods', { namespace: 'sel', labelSelector: 'app=web', allowWatchBookmarks: true }, T);
    const events = await w.until((e) => e.some((x: any) => x.type === BOOKMARK));
    const added = events.filter((e: any) => e.type === ADDED).map((e: any) => e.object.metadata.name);
    expect(added.sort()).toEqual(['p0', 'p2', 'p4', 'p6']);
    const bm = events.find((e: any) => e.type === BOOKMARK);
    expect(Number(bm.object.metadata.resourceVersion)).toBeGreaterThan(0);
    w.cancel();
  });

  it('answers OUT_OF_RANGE for a resourceVersion older than the watch cache holds', async () => {
    // An apiserver that keeps only 100 events per resource.
    const small = await startApiserver(store, [...authArgs(authFiles()), '--watch-cache-max-events', '100']);
    const cms = clientFor(kind('ConfigMap'), small.address);
    clients.push(cms);
    try {
      const before = (await call(cms, 'listConfigMaps', { namespace: 'crud' }, T)).metadata.resourceVersion;
      for (let i = 0; i < 110; i++) await call(cms, 'createConfigMap', { configMap: sample(kind('ConfigMap'), `old-${i}`, 'crud') }, T);
      const w = collect(cms, 'watchConfigMaps', { namespace: 'crud', resourceVersion: before }, T);
      await eventually(() => w.error);
      expect(w.error!.code).toBe(grpc.status.OUT_OF_RANGE);
      expect(w.error!.details).toMatch(new RegExp(`^too old resource version: ${before} \\(\\d+\\)$`));
    } finally {
      await small.stop();
    }
  });
});
