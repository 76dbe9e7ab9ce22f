// kubectl 1.32 against a `k8ts up` cluster, as a Kubernetes user drives one: the kubeconfig
// that `k8ts up` writes, then a whole session on ordinary manifests. Every step's output is
// checked, not only its exit code. kubectl is the judge: where k8ts and Kubernetes differ,
// the test expects what kubectl prints for Kubernetes.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { k8ts, ok, processesMentioning, sleep, type TestCluster, testCluster, until } from './helpers';

let c: TestCluster;
const KUBECTL = process.env.KUBECTL_BIN ?? '/usr/bin/kubectl';
let kubeconfig = '';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, args, { env: { ...c.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: path.join(c.home, 'kube-cache') }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** kubectl that must succeed: its stdout. */
async function kc(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await kubectl(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

const DEPLOY = (image: string, replicas = 2) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: echo
        image: ${image}
        ports:
        - containerPort: 8080
        readinessProbe:
          httpGet: {path: /readyz, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 8080}
`;

beforeAll(async () => {
  c = await testCluster('kubectl');
  const up = await k8ts(c, ['up', '--detach', ...c.upFlags, '--nodes', '2'], { timeoutMs: 180_000 });
  if (up.code !== 0) throw new Error(`k8ts up failed:\n${up.stdout}\n${up.stderr}`);
  kubeconfig = path.join(c.dataDir, 'kubeconfig');
  expect(up.stdout).toContain(`export KUBECONFIG=${kubeconfig}`);
  expect(fs.statSync(kubeconfig).mode & 0o777).toBe(0o600);
}, 240_000);

afterAll(async () => {
  if (!c) return;
  await k8ts(c, ['down', '--data-dir', c.dataDir], { timeoutMs: 120_000 });
  const left = processesMentioning(c.dataDir);
  await c.dispose();
  expect(left).toEqual([]);
}, 180_000);

describe('a kubectl session against k8ts', () => {
  it('version, nodes, api-resources, and the kubeconfig k8ts prints', async () => {
    expect(await ok(c, ['kubeconfig', '--data-dir', c.dataDir])).toBe(fs.readFileSync(kubeconfig, 'utf8'));
    const version = await kc(['version']);
    expect(version).toMatch(/Client Version: v1\.32/);
    expect(version).toMatch(/Server Version: v1\.32\.\d+/);
    const nodes = await until('2 Ready nodes in kubectl get nodes', async () => {
      const out = await kc(['get', 'nodes']);
      return (out.match(/ Ready /g) ?? []).length === 2 ? out : undefined;
    }, 60_000);
    expect(nodes.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    const resources = await kc(['api-resources']);
    expect(resources).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(resources).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(resources).toMatch(/^selfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview$/m);
  });

  it('apply creates, then reports unchanged and configured, with default validation', async () => {
    const created = await kc(['apply', '-f', '-'], { input: DEPLOY('k8ts/echo') });
    expect(created).toBe('deployment.apps/web created\nservice/web created\n');
    expect(await kc(['apply', '-f', '-'], { input: DEPLOY('k8ts/echo') })).toBe('deployment.apps/web unchanged\nservice/web unchanged\n');
    await kc(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    const changed = await kc(['apply', '-f', '-'], { input: DEPLOY('k8ts/echo', 3) });
    expect(changed).toBe('deployment.apps/web configured\nservice/web unchanged\n');
    const status = await kc(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    expect(status).toMatch(/deployment "web" successfully rolled out/);
  });

  it('gets in every output format, with label selectors', async () => {
    const wide = await kc(['get', 'pods', '-o', 'wide', '-l', 'app=web']);
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    expect(wide.trim().split('\n').slice(1).filter((l) => /\s1\/1\s+Running\s/.test(l))).toHaveLength(3);
    const deployYaml = await kc(['get', 'deploy', 'web', '-o', 'yaml']);
    expect(deployYaml).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\n/);
    expect(deployYaml).toMatch(/replicas: 3/);
    const svc = JSON.parse(await kc(['get', 'svc', 'web', '-o', 'json']));
    expect(svc).toMatchObject({ kind: 'Service', spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } });
    expect(await kc(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas} {.status.readyReplicas}'])).toBe('3 3');
    expect(await kc(['get', 'pods', '-l', 'app=nothing'])).toBe('');
    const all = await kc(['get', 'all']);
    expect(all).toMatch(/^service\/web\s+ClusterIP/m);
    expect(all).toMatch(/^deployment\.apps\/web\s+3\/3\s+3\s+3\s/m);
  });

  it('describes with events, scales, patches, labels and annotates', async () => {
    const described = await kc(['describe', 'deployment', 'web']);
    expect(described).toMatch(/^Name:\s+web$/m);
    expect(described).toMatch(/^Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable$/m);
    expect(described).toMatch(/Events:[\s\S]*ScalingReplicaSet/);
    expect(await kc(['scale', 'deployment/web', '--replicas=2'])).toBe('deployment.apps/web scaled\n');
    await until('2 replicas', async () => ((await kc(['get', 'deploy', 'web', '-o', 'jsonpath={.status.replicas}'])) === '2' ? true : undefined), 60_000);
    // A strategic merge patch merges the container list by name.
    const patched = await kc(['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"echo","env":[{"name":"MODE","value":"patched"}]}]}}}}']);
    expect(patched).toBe('deployment.apps/web patched\n');
    const containers = JSON.parse(await kc(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers}']));
    expect(containers).toHaveLength(1);
    expect(containers[0]).toMatchObject({ name: 'echo', image: 'k8ts/echo', env: [{ name: 'MODE', value: 'patched' }] });
    expect(await kc(['label', 'svc', 'web', 'tier=front'])).toBe('service/web labeled\n');
    expect(await kc(['annotate', 'svc', 'web', 'owner=team-a'])).toBe('service/web annotated\n');
    expect(await kc(['get', 'svc', '-l', 'tier=front', '-o', 'name'])).toBe('service/web\n');
  });

  it('rollout history and undo', async () => {
    await kc(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    const history = await kc(['rollout', 'history', 'deployment/web']);
    expect(history).toMatch(/^REVISION\s+CHANGE-CAUSE$/m);
    expect(history).toMatch(/^1\s+<none>$/m);
    expect(history).toMatch(/^2\s+<none>$/m);
    expect(await kc(['rollout', 'undo', 'deployment/web'])).toBe('deployment.apps/web rolled back\n');
    await kc(['rollout', 'status', 'deployment/web', '--timeout=90s'], { timeoutMs: 100_000 });
    expect(await kc(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].env}'])).toBe('');
  });

  it('diff, logs, watch', async () => {
    const same = await kubectl(['diff', '-f', '-'], { input: DEPLOY('k8ts/echo', 2) });
    expect(same.code).toBe(0);
    const diff = await kubectl(['diff', '-f', '-'], { input: DEPLOY('k8ts/echo', 5) });
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/^-  replicas: 2$/m);
    expect(diff.stdout).toMatch(/^\+  replicas: 5$/m);
    const pod = (await kc(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const logs = await kc(['logs', pod, '--tail=5']);
    expect(logs.length).toBeGreaterThan(0);
    // --watch: the current row, then the change made while watching.
    const watching = kubectl(['get', 'configmaps', '--watch', '--request-timeout=8s'], { timeoutMs: 30_000 });
    await sleep(1500);
    await kc(['create', 'configmap', 'watched', '--from-literal=a=1']);
    const w = await watching;
    expect(w.stdout).toMatch(/^watched\s+1\s+\d+s$/m);
  });

  it('auth can-i and whoami', async () => {
    expect((await kc(['auth', 'whoami'])).replace(/\s+/g, ' ')).toMatch(/Username kubernetes-admin Groups \[system:masters system:authenticated\]/);
    expect(await kc(['auth', 'can-i', 'create', 'deployments'])).toBe('yes\n');
    const no = await kubectl(['auth', 'can-i', 'create', 'pods', '--as', 'system:serviceaccount:default:default']);
    expect(no.stdout).toBe('no\n');
  });

  it('server-side apply, and an invalid object refused with its field path', async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n';
    expect(await kc(['apply', '--server-side', '-f', '-'], { input: cm })).toBe('configmap/ssa serverside-applied\n');
    const managed = JSON.parse(await kc(['get', 'configmap', 'ssa', '-o', 'json', '--show-managed-fields']));
    expect(managed.metadata.managedFields[0]).toMatchObject({ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} } } });
    const bad = await kubectl(['apply', '-f', '-'], { input: DEPLOY('k8ts/echo', -1).replace('name: web', 'name: web-bad') });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/The Deployment "web-bad" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
    const unknown = await kubectl(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\nspec: {}\n' });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown field "spec"/);
  });

  it('delete --wait', async () => {
    const out = await kc(['delete', '-f', '-', '--wait=true', '--timeout=90s'], { input: DEPLOY('k8ts/echo'), timeoutMs: 100_000 });
    expect(out).toBe('deployment.apps "web" deleted\nservice "web" deleted\n');
    expect((await kubectl(['get', 'deploy', 'web'])).stderr).toMatch(/Error from server \(NotFound\): deployments\.apps "web" not found/);
  });
});
