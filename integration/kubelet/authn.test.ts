// Who may call the kubelet API, with real processes (nats-server, store, apiserver, a kubelet
// serving TLS with a certificate of the test cluster CA for its node IP): a caller without
// credentials is UNAUTHENTICATED; a valid token of a user without nodes/proxy is
// PERMISSION_DENIED with the kubelet's message; a token nobody accepts, or a client
// certificate of another CA, is UNAUTHENTICATED; a client certificate of the CA is its CN and
// is authorized like a token; once RBAC grants nodes/proxy, the token's user reads logs
// straight from the kubelet; and the apiserver, presenting kube-apiserver-kubelet-client
// (system:kubelet-api-admin), serves pods/log end to end, over gRPC and over HTTPS as
// `kubectl logs` asks for it.
import * as https from 'https';
import * as grpc from '@grpc/grpc-js';
import { kubeletv1 } from '@k8ts/api';
import { type CertificateAndKey, createCA, issueCertificate } from '@k8ts/kit';
import { type Cluster, boundPod, eventually, podStatus, readLogs, startCluster } from './cluster';

const NODE = 'kt-authn';
const INDEX = 1;
let cluster: Cluster;
/** The kubelet API's address, as its Node publishes it. */
let kubeletAddress: string;

beforeAll(async () => {
  cluster = await startCluster({ nodes: [NODE], users: [{ name: 'jane' }, { name: 'bob' }] });
  await cluster.startKubelet({ name: NODE, index: INDEX });
  await cluster.admin.pods.create(boundPod('talker', NODE, { containers: [{ name: 'app', image: 'k8ts/echo' }] }));
  await podStatus(cluster.admin, 'talker', (s) => s.phase === 'Running', 'Running');
  const node = await cluster.admin.nodes.get(NODE);
  kubeletAddress = `${cluster.network.nodeIP(INDEX)}:${node.status!.daemonEndpoints!.kubeletEndpoint!.Port}`;
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/** A kubelet client trusting the cluster CA (so the kubelet's serving certificate is verified), presenting `cert` when given. */
function kubelet(cert?: CertificateAndKey): kubeletv1.KubeletServiceClient {
  const ca = Buffer.from(cluster.pki.ca.certPem);
  const creds = cert ? grpc.credentials.createSsl(ca, Buffer.from(cert.keyPem), Buffer.from(cert.certPem)) : grpc.credentials.createSsl(ca);
  return new kubeletv1.KubeletServiceClient(kubeletAddress, creds);
}

function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** GetContainerLogs of the talker pod: its text, or the error the call ended with. */
function containerLogs(client: kubeletv1.KubeletServiceClient, md = new grpc.Metadata()): Promise<{ text?: string; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = client.getContainerLogs({ namespace: 'default', podName: 'talker', container: 'app' }, md);
    s.on('data', (d: kubeletv1.GetContainerLogsResponse) => chunks.push(Buffer.from(d.data ?? [])));
    s.on('error', (error: grpc.ServiceError) => {
      client.close();
      resolve({ error });
    });
    s.on('end', () => {
      client.close();
      resolve({ text: Buffer.concat(chunks).toString() });
    });
  });
}

it('refuses a caller without credentials: UNAUTHENTICATED', async () => {
  const { error } = await containerLogs(kubelet());
  expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
  expect(error?.details).toMatch(/^Unauthorized/);
});

it("refuses a valid token of a user without nodes/proxy: PERMISSION_DENIED with the kubelet's message", async () => {
  const { error } = await containerLogs(kubelet(), bearer(cluster.token('jane')));
  expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
  expect(error?.details).toBe(`Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)`);
});

it('refuses a token the apiserver does not accept, and a client certificate of another CA: UNAUTHENTICATED', async () => {
  const stolen = await containerLogs(kubelet(), bearer('not-a-token-of-this-cluster'));
  expect(stolen.error?.code).toBe(grpc.status.UNAUTHENTICATED);
  expect(stolen.error?.details).toMatch(/^Unauthorized: the apiserver did not accept the token/);
  const other = await createCA({ commonName: 'another-ca', days: 1 });
  const forged = await issueCertificate({ ca: other, commonName: 'kube-apiserver-kubelet-client', usages: ['client'], days: 1 });
  const { error } = await containerLogs(kubelet(forged));
  expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
});

it('reads a client certificate of the cluster CA as its CN, authorized as any user', async () => {
  const mallory = await issueCertificate({ ca: cluster.pki.ca, commonName: 'mallory', organizations: ['interns'], usages: ['client'], days: 1 });
  const { error } = await containerLogs(kubelet(mallory));
  expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
  expect(error?.details).toBe('Forbidden (user=mallory, verb=get, resource=nodes, subresource=proxy)');
});

it('serves the log to a token user once RBAC grants nodes/proxy of the node', async () => {
  await cluster.admin.clusterRoles.create({
    metadata: { name: 'node-proxy-reader' },
    rules: [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'], resourceNames: [NODE] }],
  });
  await cluster.admin.clusterRoleBindings.create({
    metadata: { name: 'bob-node-proxy-reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'node-proxy-reader' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }],
  });
  const text = await eventually('bob reading the log from the kubelet', async () => (await containerLogs(kubelet(), bearer(cluster.token('bob')))).text);
  expect(text).toMatch(/echo: /);
});

describe('the apiserver, with its kubelet client certificate', () => {
  it('serves pods/log through the kubelet (gRPC PodService.GetPodLogs)', async () => {
    const text = await eventually('the log through the apiserver', () => readLogs(cluster.admin, 'talker'));
    expect(text).toMatch(/echo: /);
  });

  it('serves GET /api/v1/namespaces/default/pods/talker/log over HTTPS, as kubectl logs asks', async () => {
    const url = `${cluster.httpUrl}/api/v1/namespaces/default/pods/talker/log?container=app`;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      https
        .get(url, { ca: cluster.pki.ca.certPem, headers: { Authorization: `Bearer ${cluster.token('admin')}` } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/echo: /);
  });
});
