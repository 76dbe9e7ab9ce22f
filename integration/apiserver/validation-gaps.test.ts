// Kubernetes' rules k8ts missed (issue 16), over real processes and the gRPC door: bytes that
// are not a request are INVALID_ARGUMENT at the apiserver as at the store; a resourceVersion on
// create, a preemptionPolicy of neither value and annotations over 256 KiB in UTF-8 are
// refused with Kubernetes' messages. And least privilege: the kube-proxy's identity may get a
// Node (Kubernetes' system:node-proxier), the simulated nodes' kubelet writes any Node, its
// status and its Lease, but nothing beyond a kubelet's rights.
import * as grpc from '@grpc/grpc-js';
import { coordinationv1, corev1, metav1 } from '@k8ts/api';
import { type ControlPlane, startControlPlane } from '@k8ts/testkit';

const PROXY = 'system:kube-proxy';
const SIM_KUBELET = 'system:k8ts-sim-kubelet';

let cp: ControlPlane;
const clients: grpc.Client[] = [];

beforeAll(async () => {
  cp = await startControlPlane({ dirPrefix: 'k8ts-gaps-it-', users: [{ name: PROXY }, { name: SIM_KUBELET }] });
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cp?.stop();
});

function client<T extends grpc.Client>(ctor: new (address: string, creds: grpc.ChannelCredentials) => T, address = cp.apiserverAddress): T {
  const c = new ctor(address, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

/** A unary call as `user` (default admin); resolves with the error or the response. */
function call<T = unknown>(c: grpc.Client, method: string, req: unknown, user = 'admin'): Promise<{ err: grpc.ServiceError | null; res?: T }> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${cp.token(user)}`);
  const fn = (c as unknown as Record<string, (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: T) => void) => void>)[method];
  return new Promise((resolve) => fn.call(c, req, md, { deadline: Date.now() + 20_000 }, (err, res) => resolve({ err, res })));
}

/** A unary call with raw bytes, as a client generated from another schema might send. */
function rawCall(address: string, path: string, body: Buffer): Promise<grpc.ServiceError | null> {
  const c = client(grpc.Client, address);
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${cp.adminToken}`);
  return new Promise((resolve) => {
    c.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, md, { deadline: Date.now() + 20_000 }, (err) => resolve(err));
  });
}

function statusOf(err: grpc.ServiceError): metav1.Status | undefined {
  const v = err.metadata.get('k8ts-status-bin')[0];
  return Buffer.isBuffer(v) ? metav1.Status.decode(v) : undefined;
}

describe('validation', () => {
  // Field 1, length-delimited, claiming 5 bytes of which none follow.
  const truncated = Buffer.from([0x0a, 0x05]);

  test('a request that does not decode is INVALID_ARGUMENT, at the apiserver as at the store', async () => {
    const api = await rawCall(cp.apiserverAddress, '/k8ts.core.v1.ConfigMapService/CreateConfigMap', truncated);
    expect(api?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(api?.details).toMatch(/^cannot decode the \/k8ts\.core\.v1\.ConfigMapService\/CreateConfigMap request: /);
    const store = await rawCall(cp.storeEndpoint, '/etcdserverpb.KV/Put', truncated);
    expect(store?.code).toBe(grpc.status.INVALID_ARGUMENT);
    // and the apiserver still serves
    expect((await call(client(corev1.ConfigMapServiceClient), 'listConfigMaps', { namespace: 'default' })).err).toBeNull();
  });

  test('a resourceVersion on create is refused over gRPC as over HTTP: 400 BadRequest', async () => {
    const { err } = await call(client(corev1.ConfigMapServiceClient), 'createConfigMap', { configMap: { metadata: { name: 'rv', namespace: 'default', resourceVersion: '7' } } });
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toBe('resourceVersion should not be set on objects to be created');
    expect(statusOf(err!)).toMatchObject({ reason: 'BadRequest', code: 400 });
    const { err: missing } = await call(client(corev1.ConfigMapServiceClient), 'getConfigMap', { namespace: 'default', name: 'rv' });
    expect(missing?.code).toBe(grpc.status.NOT_FOUND);
  });

  test('spec.preemptionPolicy must be PreemptLowerPriority or Never', async () => {
    const pod = (preemptionPolicy: string) => ({ pod: { metadata: { name: `p-${preemptionPolicy.toLowerCase()}`, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }], preemptionPolicy } } });
    const { err } = await call(client(corev1.PodServiceClient), 'createPod', pod('Maybe'));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toBe('Pod "p-maybe" is invalid: spec.preemptionPolicy: Unsupported value: "Maybe": supported values: "PreemptLowerPriority", "Never"');
    expect((await call(client(corev1.PodServiceClient), 'createPod', pod('Never'))).err).toBeNull();
  });

  test('annotations count UTF-8 bytes: 100,000 euro signs are over 256 KiB', async () => {
    const { err } = await call(client(corev1.ConfigMapServiceClient), 'createConfigMap', {
      configMap: { metadata: { name: 'euros', namespace: 'default', annotations: { note: '€'.repeat(100_000) } } },
    });
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toBe('ConfigMap "euros" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes');
  });
});

describe('least privilege', () => {
  test("kube-proxy may get a Node (Kubernetes' system:node-proxier), not list pods", async () => {
    const nodes = client(corev1.NodeServiceClient);
    expect((await call(nodes, 'createNode', { node: { metadata: { name: 'proxied' } } })).err).toBeNull();
    const got = await call<{ node: corev1.Node }>(nodes, 'getNode', { name: 'proxied' }, PROXY);
    expect(got.err).toBeNull();
    expect(got.res?.node.metadata?.name).toBe('proxied');
    expect((await call(client(corev1.PodServiceClient), 'listPods', { namespace: '' }, PROXY)).err?.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  test("the simulated nodes' kubelet writes any Node, its status and its Lease; nothing else", async () => {
    const nodes = client(corev1.NodeServiceClient);
    for (const name of ['sim-1', 'sim-2']) {
      const created = await call<{ node: corev1.Node }>(nodes, 'createNode', { node: { metadata: { name } } }, SIM_KUBELET);
      expect(created.err).toBeNull();
      const node = created.res!.node;
      node.status = { ...node.status, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated' }] };
      expect((await call(nodes, 'updateNodeStatus', { node }, SIM_KUBELET)).err).toBeNull();
      const lease = { metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40 } };
      expect((await call(client(coordinationv1.LeaseServiceClient), 'createLease', { lease }, SIM_KUBELET)).err).toBeNull();
    }
    const denied = async (c: grpc.Client, method: string, req: unknown) => expect((await call(c, method, req, SIM_KUBELET)).err?.code).toBe(grpc.status.PERMISSION_DENIED);
    await denied(nodes, 'deleteNode', { name: 'sim-1' });
    await denied(client(corev1.PodServiceClient), 'createPod', { pod: { metadata: { name: 'x', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } });
    await denied(client(corev1.SecretServiceClient), 'listSecrets', { namespace: 'default' });
    await denied(client(coordinationv1.LeaseServiceClient), 'createLease', { lease: { metadata: { name: 'kube-scheduler', namespace: 'kube-system' } } });
  });
});
