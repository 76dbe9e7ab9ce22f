// The deployment's scripts: scripts/gen-secrets.sh (keys and tokens a real apiserver accepts,
// certificates OpenSSL verifies and a kubeconfig that works over mutual TLS, kept across runs,
// rotated on request), scripts/images.sh and scripts/kind-up.sh (clear messages, and nothing
// changed, when docker, kind or a container engine is missing).
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { APISERVER_MAIN, freePort, requireBuilt, STORE_MAIN, type ServiceProcess, spawnService, startNats } from '@k8ts/testkit';
import { REPO, SERVICES } from './lib';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-deploy-scripts-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd: REPO, encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Who {
  username?: string;
  groups?: string[];
}

/** An apiserver (with nats-server and the store) run on the secrets of `dir`, as the manifests run it. */
interface SecretsApiserver {
  /** Who the apiserver says the holder of `token` is (a SelfSubjectReview), or its HTTP status. */
  whoami(token: string): Promise<Who | number>;
  stop(): Promise<void>;
}

async function apiserverOn(dir: string): Promise<SecretsApiserver> {
  requireBuilt([STORE_MAIN, APISERVER_MAIN]);
  const nats = await startNats({ dir: fs.mkdtempSync(path.join(tmp, 'nats-')) });
  const procs: ServiceProcess[] = [];
  const stop = async () => {
    for (const p of procs.splice(0).reverse()) await p.stop('SIGTERM').catch(() => undefined);
    await nats.stop();
  };
  try {
    const store = `127.0.0.1:${await freePort()}`;
    // The store in plaintext, as testkit's control planes run it: this test is about the secrets.
    const storeArgs = [STORE_MAIN, '--listen', store, '--nats-url', nats.url, '--insecure-plaintext'];
    procs.push(await spawnService({ cmd: process.execPath, args: storeArgs, readyPattern: /"msg":"ready"/, timeoutMs: 60_000 }));
    const file = (f: string) => path.join(dir, f);
    const apiserver = await spawnService({
      cmd: process.execPath,
      args: [
        APISERVER_MAIN,
        ...['--listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--etcd-servers', store, '--nats-url', nats.url],
        ...['--token-auth-file', file('tokens.csv'), '--service-account-key-file', file('sa.key'), '--client-ca-file', file('ca.crt')],
        ...['--http-tls-cert', file('apiserver.crt'), '--http-tls-key', file('apiserver.key')],
      ],
      readyPattern: /"msg":"ready"/,
      timeoutMs: 60_000,
    });
    procs.push(apiserver);
    const url = /"address":"(https:\/\/[^"]+)"[^\n]*"msg":"Kubernetes HTTP API listening"/.exec(apiserver.logs())?.[1];
    if (!url) throw new Error(`the apiserver did not log its HTTPS address:\n${apiserver.logs()}`);
    const ca = fs.readFileSync(file('ca.crt'));
    return { whoami: (token) => selfSubjectReview(url, ca, token), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** POST a SelfSubjectReview with a bearer token; the reviewed user info, or the HTTP status of a refusal. */
function selfSubjectReview(url: string, ca: Buffer, token: string): Promise<Who | number> {
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${url}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
      { method: 'POST', ca, agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode === 201 || res.statusCode === 200 ? resolve(JSON.parse(text).status?.userInfo ?? {}) : resolve(res.statusCode ?? 0)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A PATH holding only these commands (links to the machine's), so that the others are "not installed". */
function pathWith(commands: string[]): string {
  const bin = fs.mkdtempSync(path.join(tmp, 'bin-'));
  for (const c of commands) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    const where = r.stdout.trim();
    if (r.status === 0 && where.startsWith('/')) fs.symlinkSync(where, path.join(bin, c));
  }
  return bin;
}
const BASIC = ['bash', 'env', 'dirname', 'basename', 'sed', 'head', 'cat', 'tr', 'grep', 'git', 'id', 'mktemp', 'rm', 'mkdir', 'seq', 'sleep'];

describe('scripts/gen-secrets.sh', () => {
  const out = path.join(tmp, 'secrets');
  const gen = (...args: string[]) => run(path.join(REPO, 'scripts', 'gen-secrets.sh'), ['--out', out, ...args]);
  const read = (f: string) => fs.readFileSync(path.join(out, f), 'utf8').trim();
  const snapshot = () =>
    Object.fromEntries(
      ['sa.key', 'admin.token', 'scheduler.token', 'controller-manager.token', 'proxy.token', 'tokens.csv', 'ca.crt', 'ca.key', 'apiserver.crt', 'admin.crt', 'admin.key'].map((f) => [
        f,
        read(f),
      ]),
    );
  const verifies = (dir: string, cert: string, purpose: string) => spawnSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), '-purpose', purpose, path.join(dir, cert)]).status === 0;

  test('writes a key, the static tokens and one node token per node, that the apiserver accepts', async () => {
    const r = gen('--nodes', 'node-a,node-b');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of [
      'sa.key',
      'sa.pub',
      'admin.token',
      'scheduler.token',
      'controller-manager.token',
      'proxy.token',
      'tokens.csv',
      'node-tokens/node-a.token',
      'node-tokens/node-b.token',
      'ca.key',
      'apiserver.key',
      'admin.key',
      'kubeconfig',
    ]) {
      const st = fs.statSync(path.join(out, f));
      expect({ f, mode: st.mode & 0o777 }).toEqual({ f, mode: 0o600 });
    }
    expect(fs.statSync(out).mode & 0o077).toBe(0);
    // The token file: four distinct tokens, one line each (besides comments).
    const lines = read('tokens.csv')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.split(',')[0])).size).toBe(4);
    expect(read('tokens.csv')).toContain(`${read('admin.token')},admin,admin`);
    expect(read('tokens.csv')).toContain(`${read('scheduler.token')},system:kube-scheduler`);
    // A real apiserver started on these files knows each token's holder: the static tokens'
    // users, and each node token's node.
    const apiserver = await apiserverOn(out);
    try {
      const who = async (file: string) => apiserver.whoami(read(file));
      expect(await who('admin.token')).toMatchObject({ username: 'admin', groups: expect.arrayContaining(['system:masters', 'system:authenticated']) });
      expect(await who('scheduler.token')).toMatchObject({ username: 'system:kube-scheduler' });
      expect(await who('controller-manager.token')).toMatchObject({ username: 'system:kube-controller-manager' });
      expect(await who('proxy.token')).toMatchObject({ username: 'system:kube-proxy' });
      for (const n of ['node-a', 'node-b']) {
        expect(await who(`node-tokens/${n}.token`)).toMatchObject({ username: `system:node:${n}`, groups: expect.arrayContaining(['system:nodes']) });
      }
      expect(await apiserver.whoami('not-a-token')).toBe(401);
    } finally {
      await apiserver.stop();
    }
    // The kustomization generates the Secrets the manifests mount.
    const k = YAML.parse(read('kustomization.yaml'));
    expect(k.namespace).toBe('k8ts-system');
    const gens = Object.fromEntries(k.secretGenerator.map((g: any) => [g.name, g.files]));
    expect(gens).toEqual({
      'apiserver-credentials': [
        'sa.key',
        'tokens.csv',
        'ca.crt',
        'apiserver.crt',
        'apiserver.key',
        'apiserver-kubelet-client.crt',
        'apiserver-kubelet-client.key',
        'apiserver-etcd-client.crt',
        'apiserver-etcd-client.key',
        'nats-apiserver.nk',
      ],
      'store-credentials': ['ca.crt', 'store.crt', 'store.key', 'nats-store.nk'],
      'nats-auth': ['auth.conf=nats-auth.conf'],
      'cluster-ca': ['ca.crt'],
      'scheduler-token': ['token=scheduler.token'],
      'controller-manager-token': ['token=controller-manager.token'],
      'proxy-token': ['token=proxy.token'],
      'node-tokens': ['node-a.token=node-tokens/node-a.token', 'node-b.token=node-tokens/node-b.token'],
    });
  });

  test("certificates: the CA's serving certificate with the Service's and kubernetes' names, the admin's client certificate", () => {
    expect(verifies(out, 'apiserver.crt', 'sslserver')).toBe(true);
    expect(verifies(out, 'admin.crt', 'sslclient')).toBe(true);
    expect(verifies(out, 'admin.crt', 'sslserver')).toBe(false);
    const serving = new crypto.X509Certificate(read('apiserver.crt'));
    expect(serving.subjectAltName?.split(', ').sort()).toEqual(
      [
        'DNS:localhost',
        'DNS:apiserver',
        'DNS:apiserver.k8ts-system',
        'DNS:apiserver.k8ts-system.svc',
        'DNS:apiserver.k8ts-system.svc.cluster.local',
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
        'IP Address:127.0.0.1',
        'IP Address:127.96.0.1',
      ].sort(),
    );
    expect(serving.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new crypto.X509Certificate(read('admin.crt')).subject.split('\n')).toEqual(['O=system:masters', 'CN=kubernetes-admin']);
    // the apiserver's identity to kubelets
    expect(verifies(out, 'apiserver-kubelet-client.crt', 'sslclient')).toBe(true);
    expect(new crypto.X509Certificate(read('apiserver-kubelet-client.crt')).subject).toBe('CN=kube-apiserver-kubelet-client');
  });

  test('the kubeconfig: cluster k8ts, user k8ts-admin, current context k8ts; it works over mutual TLS', async () => {
    const cfg = YAML.parse(read('kubeconfig'));
    expect(cfg['current-context']).toBe('k8ts');
    expect(cfg.contexts).toEqual([{ name: 'k8ts', context: { cluster: 'k8ts', user: 'k8ts-admin' } }]);
    const cluster = cfg.clusters.find((c: any) => c.name === 'k8ts').cluster;
    const user = cfg.users.find((u: any) => u.name === 'k8ts-admin').user;
    expect(cluster.server).toBe('https://127.0.0.1:16444');
    const data = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    expect(data(cluster['certificate-authority-data']).trim()).toBe(read('ca.crt'));
    expect(data(user['client-certificate-data']).trim()).toBe(read('admin.crt'));
    // A server as the apiserver is configured (its certificate, client certificates of the CA
    // required) accepts a client configured from the kubeconfig alone.
    const server = https.createServer({ cert: read('apiserver.crt'), key: read('apiserver.key'), ca: read('ca.crt'), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      res.end((req.socket as import('tls').TLSSocket).getPeerCertificate().subject.CN);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const body = await new Promise<string>((resolve, reject) => {
        const opts = { ca: data(cluster['certificate-authority-data']), cert: data(user['client-certificate-data']), key: data(user['client-key-data']), agent: false };
        https
          .get(`https://127.0.0.1:${port}/`, opts, (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      expect(body).toBe('kubernetes-admin');
    } finally {
      server.close();
    }
  });

  test('keeps what exists, adds new nodes, re-issues node tokens the key does not verify', () => {
    const before = snapshot();
    const nodeA = read('node-tokens/node-a.token');
    fs.writeFileSync(path.join(out, 'node-tokens', 'node-b.token'), 'not-a-token\n');
    const r = gen('--nodes', 'node-c');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('made node-tokens/node-b.token, node-tokens/node-c.token');
    expect(snapshot()).toEqual(before);
    expect(read('node-tokens/node-a.token')).toBe(nodeA);
    expect(read('node-tokens/node-b.token')).not.toBe('not-a-token');
    expect(read('kustomization.yaml')).toContain('node-c.token=node-tokens/node-c.token');
  });

  test('--rotate makes a new key and new tokens for everything, which the apiserver accepts', async () => {
    const before = snapshot();
    const nodeA = read('node-tokens/node-a.token');
    expect(gen('--rotate').status).toBe(0);
    const after = snapshot();
    for (const f of Object.keys(before)) expect({ f, same: after[f] === before[f] }).toEqual({ f, same: false });
    expect(read('node-tokens/node-a.token')).not.toBe(nodeA);
    const apiserver = await apiserverOn(out);
    try {
      expect(await apiserver.whoami(read('node-tokens/node-c.token'))).toMatchObject({ username: 'system:node:node-c' });
    } finally {
      await apiserver.stop();
    }
  });

  test('another namespace or service range: only the serving certificate is issued again', () => {
    const other = path.join(tmp, 'secrets-ns');
    const genOther = (...args: string[]) => run(path.join(REPO, 'scripts', 'gen-secrets.sh'), ['--out', other, ...args]);
    expect(genOther().status).toBe(0);
    const files = () => Object.fromEntries(['ca.crt', 'admin.crt', 'apiserver.crt'].map((f) => [f, fs.readFileSync(path.join(other, f), 'utf8')]));
    const before = files();
    const r = genOther('--namespace', 'k8ts-other', '--service-cidr', '10.96.0.0/12');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('made apiserver.crt (other SANs)');
    const after = files();
    expect(after['ca.crt']).toBe(before['ca.crt']);
    expect(after['admin.crt']).toBe(before['admin.crt']);
    const serving = new crypto.X509Certificate(after['apiserver.crt']);
    expect(serving.checkHost('apiserver.k8ts-other.svc')).toBe('apiserver.k8ts-other.svc');
    expect(serving.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(verifies(other, 'apiserver.crt', 'sslserver')).toBe(true);
    const bad = genOther('--service-cidr', '10.96.0.0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/invalid --service-cidr "10.96.0.0"/);
  });

  test('refuses bad node names and unknown arguments', () => {
    const bad = gen('--nodes', 'Node_A');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/invalid node name "Node_A"/);
    const unknown = gen('--bogus');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown argument "--bogus"/);
  });
});

describe('scripts/images.sh', () => {
  test('says clearly that there is no container engine, and builds nothing', () => {
    const r = run(path.join(REPO, 'scripts', 'images.sh'), [], { ...process.env, PATH: pathWith(BASIC) });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no container engine here: no docker, podman or buildah/);
    expect(r.stdout).toBe('');
  });

  test('--print shows one build per service, from the repository root, tagged k8ts/<service>:dev', () => {
    const r = run(path.join(REPO, 'scripts', 'images.sh'), ['--print'], { ...process.env, PATH: pathWith(BASIC) });
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(SERVICES.length);
    for (const svc of SERVICES) {
      expect(lines.some((l) => l.startsWith('docker build ') && l.includes(`-f services/${svc}/Dockerfile -t k8ts/${svc}:dev `) && l.trim().endsWith(' .'))).toBe(true);
    }
  });
});

describe('scripts/kind-up.sh', () => {
  test('names every missing tool, and changes nothing', () => {
    const r = run(path.join(REPO, 'scripts', 'kind-up.sh'), [], { ...process.env, PATH: pathWith(BASIC), K8TS_KIND_CLUSTER: 'k8ts-test-missing-tools' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot start: missing/);
    expect(r.stderr).toMatch(/- kind: https:\/\/kind\.sigs\.k8s\.io/);
    expect(r.stderr).toMatch(/- kubectl/);
    expect(r.stderr).toMatch(/- node/);
    expect(r.stderr).toMatch(/- docker .* or podman/);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(fs.existsSync(path.join(REPO, '.k8ts', 'kind', 'k8ts-test-missing-tools'))).toBe(false);
  });

  test('--down without kind says so', () => {
    const r = run(path.join(REPO, 'scripts', 'kind-up.sh'), ['--down'], { ...process.env, PATH: pathWith(BASIC), K8TS_KIND_CLUSTER: 'k8ts-test-missing-tools' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/kind is not installed/);
  });
});

test('the Makefile has the deployment targets, and deploy/README.md names every command', () => {
  for (const t of ['kind-up', 'kind-down', 'deploy-render', 'deploy-validate', 'images']) {
    const r = run('make', ['-s', '-n', t]);
    expect({ t, status: r.status }).toEqual({ t, status: 0 });
  }
  const readme = fs.readFileSync(path.join(REPO, 'deploy', 'README.md'), 'utf8');
  for (const cmd of [
    'make kind-up',
    'make kind-down',
    'make images',
    'scripts/gen-secrets.sh',
    'kind create cluster',
    'kind load docker-image',
    'kubectl apply -k deploy/k8s/overlays/dev',
    'kubectl apply -k deploy/k8s/overlays/ha',
    'kubectl -n k8ts-system rollout status',
    'kubectl -n k8ts-system port-forward svc/apiserver',
    'get nodes',
    'K8TS_RUNTIME=process',
    '--rotate',
  ]) {
    expect({ cmd, named: readme.includes(cmd) }).toEqual({ cmd, named: true });
  }
});
