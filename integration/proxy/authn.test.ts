// Who may call the proxy's admin API, with real processes (nats-server, store, an apiserver
// serving HTTPS with a certificate of a test CA, and the proxy as `k8ts up` runs it: TLS with
// a serving certificate of the CA, --client-ca-file, the apiserver's reviews): health is open;
// a caller without credentials is UNAUTHENTICATED; a valid token of a user without the path is
// PERMISSION_DENIED with the apiserver's non-resource message; an administrator, by token or by
// client certificate of the CA, reads the rules.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import { proxyv1 } from '@k8ts/api';
import { type CertificateAndKey, createCA, issueCertificate } from '@k8ts/kit';
import { type ControlPlane, type ServiceProcess, type TestNetwork, leaseTestNetwork, spawnService, startControlPlane } from '@k8ts/testkit';

const REPO = path.resolve(__dirname, '..', '..');
const MAIN = path.join(REPO, 'services', 'proxy', 'dist', 'main.js');

let network: TestNetwork;
let pkiDir: string;
let ca: CertificateAndKey;
let cp: ControlPlane;
let proxy: ServiceProcess;
let address: string;

/** Writes a certificate and its key as <name>.crt and <name>.key. */
function writePair(name: string, pair: CertificateAndKey): { cert: string; key: string } {
  const cert = path.join(pkiDir, `${name}.crt`);
  const key = path.join(pkiDir, `${name}.key`);
  fs.writeFileSync(cert, pair.certPem);
  fs.writeFileSync(key, pair.keyPem, { mode: 0o600 });
  return { cert, key };
}

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${path.relative(REPO, MAIN)} is missing: run 'make build' before the integration tests`);
  network = await leaseTestNetwork(__filename);
  pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-proxy-authn-'));
  ca = await createCA({ commonName: 'k8ts-test-ca', days: 1 });
  const caFile = path.join(pkiDir, 'ca.crt');
  fs.writeFileSync(caFile, ca.certPem);
  const https = writePair('apiserver', await issueCertificate({ ca, commonName: 'kube-apiserver', ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 }));
  const serving = writePair('proxy', await issueCertificate({ ca, commonName: 'kube-proxy:node-a', ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 }));
  cp = await startControlPlane({
    dirPrefix: 'k8ts-proxy-authn-it-',
    users: [{ name: 'system:kube-proxy' }, { name: 'jane' }],
    apiserverArgs: ['--service-cluster-ip-range', network.serviceCidr, '--http-tls-cert', https.cert, '--http-tls-key', https.key, '--client-ca-file', caFile],
  });
  proxy = await spawnService({
    cmd: process.execPath,
    args: [
      ...[MAIN, '--listen', '127.0.0.1:0', '--apiserver', cp.apiserverAddress, '--token-file', cp.tokenFile('system:kube-proxy')],
      ...['--node-name', 'node-a', '--node-ip', network.nodeIP(1), '--shutdown-timeout', '2s'],
      ...['--tls-cert', serving.cert, '--tls-key', serving.key, '--client-ca-file', caFile],
      ...['--apiserver-https', cp.httpUrl!, '--apiserver-https-ca', caFile],
    ],
    readyPattern: /"msg":"rules synced"/,
    timeoutMs: 60_000,
  });
  address = /"address":"([^"]+)"[^\n]*"msg":"listening"/.exec(proxy.logs())![1];
}, 120_000);

afterAll(async () => {
  await proxy?.stop('SIGTERM');
  await cp?.stop();
  await network?.release();
  if (pkiDir) fs.rmSync(pkiDir, { recursive: true, force: true });
});

/** A client trusting the CA (the proxy's serving certificate is verified), presenting `cert` when given. */
function credentials(cert?: CertificateAndKey): grpc.ChannelCredentials {
  const caPem = Buffer.from(ca.certPem);
  return cert ? grpc.credentials.createSsl(caPem, Buffer.from(cert.keyPem), Buffer.from(cert.certPem)) : grpc.credentials.createSsl(caPem);
}

function listRules(cert?: CertificateAndKey, token?: string): Promise<proxyv1.ListRulesResponse> {
  const client = new proxyv1.ProxyServiceClient(address, credentials(cert));
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) =>
    client.listRules({}, md, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res);
    }),
  );
}

it('answers health checks without credentials', async () => {
  const Health = grpc.makeGenericClientConstructor(
    {
      check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: () => Buffer.alloc(0),
        requestDeserialize: () => ({}),
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    'Health',
  );
  const h = new Health(address, credentials()) as unknown as { check(r: unknown, cb: (e: grpc.ServiceError | null, b: Buffer) => void): void; close(): void };
  const answer = await new Promise<Buffer>((resolve, reject) => h.check({}, (e, b) => (e ? reject(e) : resolve(b))));
  h.close();
  expect([...answer]).toEqual([0x08, 1]); // SERVING
});

it('refuses a caller without credentials: UNAUTHENTICATED', async () => {
  await expect(listRules()).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringMatching(/^Unauthorized/) });
});

it("refuses a valid token of a user without the path: PERMISSION_DENIED with the apiserver's message", async () => {
  await expect(listRules(undefined, cp.token('jane'))).rejects.toMatchObject({
    code: grpc.status.PERMISSION_DENIED,
    details: 'forbidden: User "jane" cannot get path "/k8ts.proxy.v1.ProxyService/ListRules"',
  });
});

it('serves an administrator, by token and by client certificate of the CA', async () => {
  expect((await listRules(undefined, cp.token('admin'))).nodeName).toBe('node-a');
  const admin = await issueCertificate({ ca, commonName: 'kubernetes-admin', organizations: ['system:masters'], usages: ['client'], days: 1 });
  expect((await listRules(admin)).nodeName).toBe('node-a');
});
