// Pod logs through the apiserver: PodService.GetPodLogs is proxied to the kubelet of the pod's
// node (its InternalIP and kubelet port). The kubelet here is a tiny real gRPC server started
// by the test, implementing k8ts.kubelet.v1.KubeletService over TLS with a certificate of a
// test CA (the apiserver's --kubelet-ca) and requiring the apiserver's client certificate
// (--kubelet-client-certificate), whose CN it records.
import * as grpc from '@grpc/grpc-js';
import { kubeletv1 } from '@k8ts/api';
import { createCA, issueCertificate } from '@k8ts/kit';
import { type Apiserver, type Store, call, collect, eventually, expectCode, requireBuild, startApiserver, startStore, tempFile } from './harness';
import { TOKENS, authArgs, authFiles, clientFor, kind, sample } from './fixtures';

const T = TOKENS.admin;
let store: Store;
let apiserver: Apiserver;
let kubelet: grpc.Server;
let kubeletPort: number;
const requests: kubeletv1.GetContainerLogsRequest[] = [];
/** The CN of the client certificate of each call the kubelet got. */
const callers: string[] = [];
let followCancelled = false;
const clients: grpc.Client[] = [];

function client(k: string): grpc.Client {
  const c = clientFor(kind(k), apiserver.address);
  clients.push(c);
  return c;
}

/** The kubelet's TLS: a serving certificate for 127.0.0.1, and the apiserver's client certificate, of one test CA. */
async function kubeletPki() {
  const ca = await createCA({ commonName: 'logs-test-ca', days: 1 });
  const serving = await issueCertificate({ ca, commonName: 'system:node:logs-node', ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 });
  const client = await issueCertificate({ ca, commonName: 'kube-apiserver-kubelet-client', usages: ['client'], days: 1 });
  return { ca, serving, client };
}

/** A kubelet that answers with lines naming what was asked; with follow, one line every 20 ms until cancelled. */
function startKubelet(tls: Awaited<ReturnType<typeof kubeletPki>>): Promise<number> {
  kubelet = new grpc.Server();
  kubelet.addService(kubeletv1.KubeletServiceService, {
    getContainerLogs(callObj: grpc.ServerWritableStream<kubeletv1.GetContainerLogsRequest, kubeletv1.GetContainerLogsResponse>) {
      const r = callObj.request;
      requests.push(r);
      callers.push(String(callObj.getAuthContext()?.sslPeerCertificate?.subject?.CN ?? ''));
      const lines = [1, 2, 3].map((i) => `${r.namespace}/${r.podName}/${r.container} line ${i}\n`);
      const tail = r.tailLines ?? lines.length;
      for (const l of lines.slice(-tail)) callObj.write({ data: Buffer.from(l) });
      if (!r.follow) {
        callObj.end();
        return;
      }
      let n = 4;
      const timer = setInterval(() => callObj.write({ data: Buffer.from(`followed line ${n++}\n`) }), 20);
      callObj.on('cancelled', () => {
        followCancelled = true;
        clearInterval(timer);
      });
    },
  });
  const creds = grpc.ServerCredentials.createSsl(Buffer.from(tls.ca.certPem), [{ cert_chain: Buffer.from(tls.serving.certPem), private_key: Buffer.from(tls.serving.keyPem) }], true);
  return new Promise((resolve, reject) => kubelet.bindAsync('127.0.0.1:0', creds, (e, port) => (e ? reject(e) : resolve(port))));
}

beforeAll(async () => {
  requireBuild();
  const tls = await kubeletPki();
  kubeletPort = await startKubelet(tls);
  store = await startStore();
  apiserver = await startApiserver(store, [
    ...authArgs(authFiles()),
    '--kubelet-ca',
    tempFile('kubelet-ca.crt', tls.ca.certPem),
    '--kubelet-client-certificate',
    tempFile('apiserver-kubelet-client.crt', tls.client.certPem),
    '--kubelet-client-key',
    tempFile('apiserver-kubelet-client.key', tls.client.keyPem),
  ]);
  const node = sample(kind('Node'), 'logs-node', '');
  node.status = { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } };
  await call(client('Node'), 'createNode', { node }, T);
  await call(client('Pod'), 'createPod', { pod: sample(kind('Pod'), 'talker', 'default') }, T);
  await call(client('Pod'), 'bindPod', { binding: { metadata: { name: 'talker', namespace: 'default' }, target: { name: 'logs-node' } } }, T);
  const two = sample(kind('Pod'), 'two-containers', 'default');
  two.spec.containers.push({ name: 'sidecar', image: 'k8ts/echo' });
  await call(client('Pod'), 'createPod', { pod: two }, T);
}, 120000);

afterAll(async () => {
  for (const c of clients) c.close();
  await apiserver?.stop();
  await store?.stop();
  kubelet?.forceShutdown();
});

const text = (events: { data: Buffer }[]) => Buffer.concat(events.map((e) => e.data)).toString();

it('streams a container log from the kubelet of the pod node', async () => {
  const s = collect<{ data: Buffer }>(client('Pod'), 'getPodLogs', { namespace: 'default', name: 'talker', tailLines: 2, timestamps: true }, T);
  await eventually(() => s.ended || s.error);
  expect(s.error).toBeUndefined();
  expect(text(s.events)).toBe('default/talker/app line 2\ndefault/talker/app line 3\n');
  const r = requests[requests.length - 1];
  expect(r).toMatchObject({ namespace: 'default', podName: 'talker', container: 'app', tailLines: 2, timestamps: true });
  expect(r.podUid).toMatch(/^[0-9a-f-]{36}$/);
  // over TLS, verified with --kubelet-ca, as the user of --kubelet-client-certificate
  expect(callers[callers.length - 1]).toBe('kube-apiserver-kubelet-client');
});

it('follows a log until the client cancels, and cancels the kubelet call', async () => {
  const s = collect<{ data: Buffer }>(client('Pod'), 'getPodLogs', { namespace: 'default', name: 'talker', follow: true }, T);
  await s.until((e) => text(e).includes('followed line 6'));
  s.cancel();
  await eventually(() => followCancelled);
});

it('reports a pod without a node, an ambiguous or unknown container, and a caller without rights', async () => {
  const bad = (req: object) => collect(client('Pod'), 'getPodLogs', req, T);
  const unbound = bad({ namespace: 'default', name: 'two-containers', container: 'app' });
  await eventually(() => unbound.error);
  expect(unbound.error!.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(unbound.error!.details).toBe('pod two-containers does not have a host assigned');
  await call(client('Pod'), 'bindPod', { binding: { metadata: { name: 'two-containers', namespace: 'default' }, target: { name: 'logs-node' } } }, T);
  const ambiguous = bad({ namespace: 'default', name: 'two-containers' });
  await eventually(() => ambiguous.error);
  expect(ambiguous.error!.details).toBe('a container name must be specified for pod two-containers, choose one of: [app sidecar]');
  const unknown = bad({ namespace: 'default', name: 'talker', container: 'nope' });
  await eventually(() => unknown.error);
  expect(unknown.error!.code).toBe(grpc.status.INVALID_ARGUMENT);
  await expectCode(call(client('Pod'), 'getPod', { namespace: 'default', name: 'talker' }, TOKENS.jane), grpc.status.PERMISSION_DENIED);
  const denied = collect(client('Pod'), 'getPodLogs', { namespace: 'default', name: 'talker' }, TOKENS.jane);
  await eventually(() => denied.error);
  expect(denied.error!.code).toBe(grpc.status.PERMISSION_DENIED);
  expect(denied.error!.details).toContain('cannot get resource "pods/log"');
});
