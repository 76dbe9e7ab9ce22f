// The deployment's scripts: scripts/gen-secrets.sh (keys and tokens the apiserver accepts,
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
import { TokenVerifier, parseTokenFile } from '../../services/apiserver/src/auth';
import { REPO, SERVICES } from './lib';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-deploy-scripts-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd: REPO, encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
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

  test('writes a key, the static tokens and one node token per node, that the apiserver accepts', () => {
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
    // The token file, read by the apiserver's own parser.
    const { records } = parseTokenFile(read('tokens.csv'), 'tokens.csv');
    const users = Object.fromEntries(records.map((rec) => [rec.user.name, rec]));
    expect(Object.keys(users).sort()).toEqual(['admin', 'system:kube-controller-manager', 'system:kube-proxy', 'system:kube-scheduler']);
    expect(users.admin.user.groups).toContain('system:masters');
    const byToken = parseTokenFile(read('tokens.csv')).byHash;
    expect(byToken.size).toBe(4);
    expect(read('tokens.csv')).toContain(`${read('admin.token')},admin,admin`);
    expect(read('tokens.csv')).toContain(`${read('scheduler.token')},system:kube-scheduler`);
    // Node tokens verify against the key, each for its node.
    const verifier = new TokenVerifier({ keys: read('sa.key'), issuers: ['k8ts'], audiences: ['k8ts'] });
    for (const n of ['node-a', 'node-b']) {
      const token = read(`node-tokens/${n}.token`);
      const jwt = verifier.decodeIfOurs(token);
      expect(jwt).not.toBeNull();
      expect(verifier.verify(token, jwt!).sub).toBe(`system:node:${n}`);
    }
    // The kustomization generates the Secrets the manifests mount.
    const k = YAML.parse(read('kustomization.yaml'));
    expect(k.namespace).toBe('k8ts-system');
    const gens = Object.fromEntries(k.secretGenerator.map((g: any) => [g.name, g.files]));
    expect(gens).toEqual({
      'apiserver-credentials': ['sa.key', 'tokens.csv', 'ca.crt', 'apiserver.crt', 'apiserver.key'],
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

  test('--rotate makes a new key and new tokens for everything', () => {
    const before = snapshot();
    const nodeA = read('node-tokens/node-a.token');
    expect(gen('--rotate').status).toBe(0);
    const after = snapshot();
    for (const f of Object.keys(before)) expect({ f, same: after[f] === before[f] }).toEqual({ f, same: false });
    expect(read('node-tokens/node-a.token')).not.toBe(nodeA);
    const verifier = new TokenVerifier({ keys: read('sa.key'), issuers: ['k8ts'], audiences: ['k8ts'] });
    const token = read('node-tokens/node-c.token');
    expect(verifier.verify(token, verifier.decodeIfOurs(token)!).sub).toBe('system:node:node-c');
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
