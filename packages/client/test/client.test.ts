// The gRPC clientset against an in-process server that serves the generated services on
// loopback: bearer token, request and response shapes, error mapping, retries of reads
// only, deadlines, cancellation, watches (events, bookmarks, ERROR as Gone, stop), paging,
// subresources, and one shared connection.
import * as grpc from '@grpc/grpc-js';
import { appsv1, corev1, metav1 } from '@k8ts/api';
import { connect, isConflict, isGone, isInvalid, isTimeout, isUnauthorized, isUnavailable, settle } from '../src';
import type { GrpcClientset, WatchEvent } from '../src';

const TOKEN = 'secret-token';

function fail(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() }) as grpc.ServiceError;
}

/** What the test server saw and how it should misbehave. */
const server = {
  calls: [] as { method: string; request: any; auth: string; peer: string }[],
  pods: new Map<string, corev1.Pod>(),
  revision: 0,
  /** Answers to give before the real one, per method (code or 'hang'). */
  script: new Map<string, (grpc.status | 'hang')[]>(),
  watchCancelled: false,
};

type Unary = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => void;

/** Checks the token and runs the scripted failures, then the handler. */
function unary(method: string, handler: (req: any) => any): Unary {
  return (call, cb) => {
    const auth = String(call.metadata.get('authorization')[0] ?? '');
    server.calls.push({ method, request: call.request, auth, peer: call.getPeer() });
    if (auth !== `Bearer ${TOKEN}`) return cb(fail(grpc.status.UNAUTHENTICATED, 'no valid bearer token'));
    const next = server.script.get(method)?.shift();
    if (next === 'hang') return;
    if (next !== undefined) return cb(fail(next, `scripted ${grpc.status[next]}`));
    try {
      cb(null, handler(call.request));
    } catch (err) {
      cb(err as grpc.ServiceError);
    }
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

const key = (ns?: string, name?: string) => `${ns}/${name}`;

const podService: corev1.PodServiceServer = {
  getPod: unary('getPod', (r: corev1.GetPodRequest) => {
    const pod = server.pods.get(key(r.namespace, r.name));
    if (!pod) throw fail(grpc.status.NOT_FOUND, `pods "${r.name}" not found`);
    return { pod };
  }),
  listPods: unary('listPods', (r: corev1.ListPodsRequest) => {
    const all = [...server.pods.values()].filter((p) => !r.namespace || p.metadata?.namespace === r.namespace);
    const start = r.continue ? Number(r.continue) : 0;
    const end = r.limit ? start + r.limit : all.length;
    return {
      metadata: { resourceVersion: String(server.revision), continue: end < all.length ? String(end) : '' },
      items: all.slice(start, end),
    };
  }),
  watchPods: (call: grpc.ServerWritableStream<corev1.WatchPodsRequest, corev1.WatchPodsResponse>) => {
    server.calls.push({ method: 'watchPods', request: call.request, auth: String(call.metadata.get('authorization')[0]), peer: call.getPeer() });
    const pod = (name: string, rv: string): corev1.Pod => ({ metadata: { namespace: 'default', name, resourceVersion: rv } });
    call.on('cancelled', () => {
      server.watchCancelled = true;
    });
    call.write({ type: metav1.WatchEventType.WATCH_EVENT_TYPE_ADDED, object: pod('a', '11') });
    call.write({ type: metav1.WatchEventType.WATCH_EVENT_TYPE_MODIFIED, object: pod('a', '12') });
    call.write({ type: metav1.WatchEventType.WATCH_EVENT_TYPE_BOOKMARK, object: { metadata: { resourceVersion: '15' } } });
    call.write({ type: metav1.WatchEventType.WATCH_EVENT_TYPE_DELETED, object: pod('a', '16') });
    if (call.request.resourceVersion === 'too-old') {
      call.write({
        type: metav1.WatchEventType.WATCH_EVENT_TYPE_ERROR,
        status: { status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' },
      });
      call.end();
    } else if (call.request.resourceVersion === 'grpc-error') {
      call.emit('error', fail(grpc.status.OUT_OF_RANGE, 'resource version 3 is compacted'));
    }
    // otherwise: stay open until cancelled
  },
  createPod: unary('createPod', (r: corev1.CreatePodRequest) => {
    const p = r.pod!;
    const k = key(p.metadata?.namespace || 'default', p.metadata?.name);
    if (server.pods.has(k)) throw fail(grpc.status.ALREADY_EXISTS, `pods "${p.metadata?.name}" already exists`);
    const stored = { ...p, metadata: { ...p.metadata, namespace: p.metadata?.namespace || 'default', resourceVersion: String(++server.revision) } };
    server.pods.set(k, stored);
    return { pod: stored };
  }),
  updatePod: unary('updatePod', (r: corev1.UpdatePodRequest) => {
    const p = r.pod!;
    const k = key(p.metadata?.namespace, p.metadata?.name);
    const cur = server.pods.get(k);
    if (!cur) throw fail(grpc.status.NOT_FOUND, `pods "${p.metadata?.name}" not found`);
    if (p.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
      throw fail(grpc.status.ABORTED, `Operation cannot be fulfilled on pods "${p.metadata?.name}": the object has been modified`);
    }
    const stored = { ...p, metadata: { ...p.metadata, resourceVersion: String(++server.revision) } };
    server.pods.set(k, stored);
    return { pod: stored };
  }),
  updatePodStatus: unary('updatePodStatus', (r: corev1.UpdatePodStatusRequest) => ({ pod: r.pod })),
  deletePod: unary('deletePod', (r: corev1.DeletePodRequest) => {
    const pod = server.pods.get(key(r.namespace, r.name));
    if (!pod) throw fail(grpc.status.NOT_FOUND, `pods "${r.name}" not found`);
    server.pods.delete(key(r.namespace, r.name));
    return { pod };
  }),
  bindPod: unary('bindPod', (r: corev1.BindPodRequest) => {
    const pod = server.pods.get(key(r.binding?.metadata?.namespace, r.binding?.metadata?.name));
    if (!pod) throw fail(grpc.status.NOT_FOUND, 'no pod');
    if (pod.spec?.nodeName) throw fail(grpc.status.ABORTED, 'already bound');
    pod.spec = { ...pod.spec, nodeName: r.binding?.target?.name };
    return {};
  }),
  getPodLogs: (call: grpc.ServerWritableStream<corev1.GetPodLogsRequest, corev1.GetPodLogsResponse>) => {
    server.calls.push({ method: 'getPodLogs', request: call.request, auth: '', peer: call.getPeer() });
    call.write({ data: Buffer.from('line 1\n') });
    call.write({ data: Buffer.from('line 2\n') });
    call.end();
  },
};

const nodeService: Partial<corev1.NodeServiceServer> = {
  getNode: unary('getNode', (r: corev1.GetNodeRequest) => ({ node: { metadata: { name: r.name } } })),
};

const deploymentService: Partial<appsv1.DeploymentServiceServer> = {
  getDeploymentScale: unary('getDeploymentScale', (r: appsv1.GetDeploymentScaleRequest) => ({
    scale: { metadata: { namespace: r.namespace, name: r.name, resourceVersion: '3' }, spec: { replicas: 2 }, status: { replicas: 2, selector: 'app=web' } },
  })),
  updateDeploymentScale: unary('updateDeploymentScale', (r: appsv1.UpdateDeploymentScaleRequest) => ({ scale: r.scale })),
};

let grpcServer: grpc.Server;
let address: string;
let cs: GrpcClientset;

beforeAll(async () => {
  grpcServer = new grpc.Server();
  grpcServer.addService(corev1.PodServiceService, podService);
  grpcServer.addService(corev1.NodeServiceService, nodeService as grpc.UntypedServiceImplementation);
  grpcServer.addService(appsv1.DeploymentServiceService, deploymentService as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
  cs = connect({ address, token: TOKEN, retries: { retries: 3, initialBackoffMs: 5, maxBackoffMs: 20 } });
});

afterAll(async () => {
  cs.close();
  await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
});

beforeEach(() => {
  server.calls = [];
  server.pods.clear();
  server.script.clear();
  server.watchCancelled = false;
});

const webPod = (): corev1.Pod => ({ metadata: { namespace: 'default', name: 'web' }, spec: { containers: [{ name: 'c', image: 'echo' }] } });

describe('typed clients over gRPC', () => {
  test('create, get, list, update, delete with the bearer token on every call', async () => {
    const created = await cs.pods.create(webPod());
    expect(created.metadata?.resourceVersion).toBe(String(server.revision));
    const got = await cs.pods.get('web', { namespace: 'default' });
    expect(got.spec?.containers?.[0]?.image).toBe('echo');
    const list = await cs.pods.list({ namespace: 'default' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['web']);
    expect(list.resourceVersion).toBe(String(server.revision));
    const updated = await cs.pods.update({ ...got, metadata: { ...got.metadata, labels: { app: 'web' } } });
    expect(updated.metadata?.labels).toEqual({ app: 'web' });
    const deleted = await cs.pods.delete('web', { namespace: 'default', gracePeriodSeconds: 0, propagationPolicy: 'Foreground' });
    expect(deleted.metadata?.name).toBe('web');
    expect(server.calls.map((c) => c.method)).toEqual(['createPod', 'getPod', 'listPods', 'updatePod', 'deletePod']);
    expect(server.calls.every((c) => c.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(server.calls[4].request).toMatchObject({ namespace: 'default', name: 'web', gracePeriodSeconds: 0, propagationPolicy: 'Foreground' });
  });

  test('errors are StatusErrors with the server message', async () => {
    await expect(cs.pods.get('nope', { namespace: 'default' })).rejects.toMatchObject({
      name: 'StatusError',
      code: grpc.status.NOT_FOUND,
      reason: 'NotFound',
      message: 'pods "nope" not found',
    });
    await cs.pods.create(webPod());
    await expect(cs.pods.create(webPod())).rejects.toMatchObject({ reason: 'AlreadyExists' });
    const stale = { ...webPod(), metadata: { ...webPod().metadata, resourceVersion: '0' } };
    const conflict = await cs.pods.update(stale).catch((e) => e);
    expect(isConflict(conflict)).toBe(true);
    expect(conflict.reason).toBe('Conflict');
  });

  test('a missing token gives Unauthorized; a token function is called per call', async () => {
    const anonymous = connect({ address });
    expect(isUnauthorized(await rejection(anonymous.nodes.get('n1')))).toBe(true);
    anonymous.close();
    let n = 0;
    const rotating = connect({ address, token: () => (++n > 1 ? TOKEN : 'stale') });
    expect(isUnauthorized(await rejection(rotating.nodes.get('n1')))).toBe(true);
    await expect(rotating.nodes.get('n1')).resolves.toMatchObject({ metadata: { name: 'n1' } });
    rotating.close();
  });

  test('a namespaced get without a namespace fails locally', async () => {
    const err = await cs.pods.get('web').catch((e) => e);
    expect(isInvalid(err)).toBe(true);
    expect(err.message).toContain('a namespace is required');
    expect(server.calls).toHaveLength(0);
  });

  test('reads are retried on UNAVAILABLE, writes never', async () => {
    server.pods.set('default/web', webPod());
    server.script.set('getPod', [grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE]);
    await expect(cs.pods.get('web', { namespace: 'default' })).resolves.toMatchObject({ metadata: { name: 'web' } });
    expect(server.calls.filter((c) => c.method === 'getPod')).toHaveLength(3);

    server.script.set('listPods', [grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE]);
    expect(isUnavailable(await rejection(cs.pods.list()))).toBe(true);
    expect(server.calls.filter((c) => c.method === 'listPods')).toHaveLength(4); // 1 + 3 retries

    server.script.set('createPod', [grpc.status.UNAVAILABLE]);
    expect(isUnavailable(await rejection(cs.pods.create({ metadata: { namespace: 'default', name: 'other' } })))).toBe(true);
    expect(server.calls.filter((c) => c.method === 'createPod')).toHaveLength(1);

    server.script.set('getPod', [grpc.status.INTERNAL]);
    await expect(cs.pods.get('web', { namespace: 'default' })).rejects.toMatchObject({ reason: 'InternalError' });
    expect(server.calls.filter((c) => c.method === 'getPod')).toHaveLength(4); // not retried
  });

  test('deadlines and cancellation', async () => {
    server.script.set('getNode', ['hang']);
    expect(isTimeout(await rejection(cs.nodes.get('n1', { deadlineMs: 100 })))).toBe(true);
    server.script.set('getNode', ['hang']);
    const ac = new AbortController();
    const pending = cs.nodes.get('n1', { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: grpc.status.CANCELLED, reason: 'Cancelled' });
  });

  test('an unreachable server is UNAVAILABLE after the retries', async () => {
    const down = connect({ address: '127.0.0.1:1', token: TOKEN, retries: { retries: 2, initialBackoffMs: 1, maxBackoffMs: 2 } });
    expect(isUnavailable(await rejection(down.nodes.get('n1')))).toBe(true);
    down.close();
  });

  test('listAll follows continue tokens', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) server.pods.set(`default/${n}`, { metadata: { namespace: 'default', name: n } });
    const all = await cs.pods.listAll({ limit: 2 });
    expect(all.items.map((p) => p.metadata?.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(server.calls.filter((c) => c.method === 'listPods').map((c) => c.request.continue)).toEqual(['', '2', '4']);
  });

  test('a watch yields typed events in order and fails with Gone on an ERROR event', async () => {
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of cs.pods.watch({ namespace: 'default', resourceVersion: 'too-old', allowWatchBookmarks: true })) {
        seen.push(`${e.type} ${e.object.metadata?.resourceVersion}`);
      }
    })().catch((e) => e);
    expect(seen).toEqual(['ADDED 11', 'MODIFIED 12', 'BOOKMARK 15', 'DELETED 16']);
    expect(isGone(err)).toBe(true);
    expect(err.message).toBe('too old resource version');
    const watchCall = server.calls.find((c) => c.method === 'watchPods')!;
    expect(watchCall.request).toMatchObject({ namespace: 'default', resourceVersion: 'too-old', allowWatchBookmarks: true });
    expect(watchCall.auth).toBe(`Bearer ${TOKEN}`);
  });

  test('a watch stream error is an ApiError', async () => {
    const w = cs.pods.watch({ resourceVersion: 'grpc-error' });
    const events: WatchEvent<corev1.Pod>[] = [];
    const err = await (async () => {
      for await (const e of w) events.push(e);
    })().catch((e) => e);
    expect(events).toHaveLength(4);
    expect(isGone(err)).toBe(true);
    expect(err.message).toBe('resource version 3 is compacted');
  });

  test('stop() ends a watch without an error and cancels the call', async () => {
    const w = cs.pods.watch({});
    const types: string[] = [];
    for await (const e of w) {
      types.push(e.type);
      if (e.type === 'DELETED') w.stop();
    }
    expect(types).toEqual(['ADDED', 'MODIFIED', 'BOOKMARK', 'DELETED']);
    for (let i = 0; i < 20 && !server.watchCancelled; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.watchCancelled).toBe(true);
  });

  test('pods: bind and logs; deployments: scale', async () => {
    server.pods.set('default/web', webPod());
    await cs.pods.bind({ metadata: { namespace: 'default', name: 'web' }, target: { kind: 'Node', name: 'node-1' } });
    expect(server.pods.get('default/web')?.spec?.nodeName).toBe('node-1');
    expect(isConflict(await rejection(cs.pods.bind({ metadata: { namespace: 'default', name: 'web' }, target: { name: 'node-2' } })))).toBe(true);
    const chunks: string[] = [];
    for await (const chunk of cs.pods.logs('web', { namespace: 'default', follow: true, tailLines: 10 })) chunks.push(chunk.toString());
    expect(chunks.join('')).toBe('line 1\nline 2\n');
    expect(server.calls.find((c) => c.method === 'getPodLogs')?.request).toMatchObject({ namespace: 'default', name: 'web', follow: true, tailLines: 10 });
    const scale = await cs.deployments.getScale('web', { namespace: 'default' });
    expect(scale).toMatchObject({ spec: { replicas: 2 }, status: { selector: 'app=web' } });
    const updated = await cs.deployments.updateScale({ ...scale, spec: { replicas: 5 } });
    expect(updated.spec?.replicas).toBe(5);
  });

  test('all typed clients share one connection', async () => {
    await cs.nodes.get('n1');
    await cs.pods.list();
    await cs.deployments.getScale('web', { namespace: 'default' });
    const peers = new Set(server.calls.map((c) => c.peer));
    expect(peers.size).toBe(1);
  });

  test('forKind finds clients by any name; unknown kinds throw', async () => {
    expect(cs.forKind('po')).toBe(cs.pods);
    expect(cs.forKind('Deployment')).toBe(cs.deployments);
    expect(cs.forKind('clusterrolebindings')).toBe(cs.clusterRoleBindings);
    expect(cs.forKind('pods').updateStatus).toBeDefined();
    expect(cs.forKind('leases').updateStatus).toBeUndefined();
    expect(() => cs.forKind('widgets')).toThrow('unknown kind widgets');
    await settle();
  });
});
