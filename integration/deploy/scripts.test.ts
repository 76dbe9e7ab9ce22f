// The deployment's scripts: scripts/gen-secrets.sh (keys and tokens the apiserver accepts, kept
// across runs, rotated on request), scripts/images.sh and scripts/kind-up.sh (clear messages,
// and nothing changed, when docker, kind or a container engine is missing).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
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
  const snapshot = () => Object.fromEntries(['sa.key', 'admin.token', 'scheduler.token', 'controller-manager.token', 'proxy.token', 'tokens.csv'].map((f) => [f, read(f)]));

  test('writes a key, the static tokens and one node token per node, that the apiserver accepts', () => {
    const r = gen('--nodes', 'node-a,node-b');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of ['sa.key', 'sa.pub', 'admin.token', 'scheduler.token', 'controller-manager.token', 'proxy.token', 'tokens.csv', 'node-tokens/node-a.token', 'node-tokens/node-b.token']) {
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
      'apiserver-credentials': ['sa.key', 'tokens.csv'],
      'scheduler-token': ['token=scheduler.token'],
      'controller-manager-token': ['token=controller-manager.token'],
      'proxy-token': ['token=proxy.token'],
      'node-tokens': ['node-a.token=node-tokens/node-a.token', 'node-b.token=node-tokens/node-b.token'],
    });
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
