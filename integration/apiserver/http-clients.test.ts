// Real Kubernetes client libraries against k8ts' HTTP API (HTTPS beside gRPC): the JavaScript
// client (@kubernetes/client-node 1.x: CRUD, merge patch, label selectors, an Informer), the
// Python client (Debian's python3-kubernetes: lists and a watch), one object seen through both
// doors (HTTP and gRPC: same uid, resourceVersion and watch sequence), and x509 client
// certificates (CN is the user, each O a group; a certificate of another CA is refused).
//
// The control plane is real processes (nats-server, store, apiserver with static tokens and
// RBAC). The apiserver serves a certificate of a CA made here, and every client verifies it
// (no skip-verify anywhere); --client-ca-file is a second CA that signs user certificates.
//
// @kubernetes/client-node 1.x is ESM only, and jest (CommonJS here) refuses to require ESM
// on Node 20. It is loaded with Node's own loader instead: a dynamic import() compiled by
// vm in the main context with USE_MAIN_CONTEXT_DEFAULT_LOADER (Node prints an
// ExperimentalWarning once). Its objects come from the main realm, so the checks below never
// use instanceof on built-ins from it.
import { type ChildProcessWithoutNullStreams, spawn } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { createInterface } from 'readline';
import { pathToFileURL } from 'url';
import * as vm from 'vm';
import type * as K8s from '@kubernetes/client-node';
import type { appsv1 } from '@k8ts/api';
import { type GrpcClientset, connect } from '@k8ts/client';
import { type CertificateAndKey, createCA, issueCertificate } from '@k8ts/kit';
import { type ControlPlane, freePort, startControlPlane } from '@k8ts/testkit';

const PYTHON = '/usr/bin/python3';
const PYTHON_CHECK = path.join(__dirname, 'python', 'k8s_client_check.py');
/** How long a watch in these tests may wait for its events before the test fails. */
const WATCH_TIMEOUT_MS = 30_000;

jest.setTimeout(120_000);

// ---- loading @kubernetes/client-node (ESM) -------------------------------------------

type ClientNode = typeof K8s;

async function loadClientNode(): Promise<ClientNode> {
  const importInMainContext = vm.runInThisContext('(url) => import(url)', {
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  }) as (url: string) => Promise<ClientNode>;
  return importInMainContext(pathToFileURL(require.resolve('@kubernetes/client-node')).href);
}

// ---- small helpers ---------------------------------------------------------------------

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs` naming `what`. */
async function waitUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = WATCH_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Kubernetes Status as the server sends it in an error body. */
interface StatusBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** The HTTP code and Status of a failed client-node call (its ApiException). */
async function apiFailure(call: Promise<unknown>): Promise<{ code: number; status: StatusBody }> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: unknown; body?: unknown };
    if (typeof e.code !== 'number') throw err;
    const status = typeof e.body === 'string' ? (JSON.parse(e.body) as StatusBody) : ((e.body ?? {}) as StatusBody);
    return { code: e.code, status };
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** Events of a watch, with a wait for the first `n` of them. */
class EventLog<E> {
  readonly events: E[] = [];
  private waiters: Array<() => void> = [];
  failure?: unknown;

  push(e: E): void {
    this.events.push(e);
    for (const w of this.waiters.splice(0)) w();
  }

  fail(err: unknown): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w();
  }

  async waitFor(n: number, what: string, timeoutMs = WATCH_TIMEOUT_MS): Promise<E[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      if (this.failure) throw new Error(`${what} failed after ${this.events.length} events: ${String(this.failure)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: ${this.events.length} of ${n} events after ${timeoutMs} ms: ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events.slice(0, n);
  }
}

// ---- the control plane with TLS --------------------------------------------------------

interface Pki {
  serverCa: CertificateAndKey;
  clientCa: CertificateAndKey;
  /** Signed by clientCa: CN jane, O devs. */
  jane: CertificateAndKey;
  /** CN jane, O system:masters, signed by a CA the apiserver does not know. */
  stranger: CertificateAndKey;
}

async function makePki(): Promise<{ pki: Pki; serving: CertificateAndKey }> {
  const serverCa = await createCA({ commonName: 'http-clients-test-server-ca', days: 1 });
  const clientCa = await createCA({ commonName: 'http-clients-test-client-ca', days: 1 });
  const otherCa = await createCA({ commonName: 'http-clients-test-other-ca', days: 1 });
  const serving = await issueCertificate({ ca: serverCa, commonName: 'k8ts-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usages: ['server'], days: 1 });
  const jane = await issueCertificate({ ca: clientCa, commonName: 'jane', organizations: ['devs'], usages: ['client'], days: 1 });
  const stranger = await issueCertificate({ ca: otherCa, commonName: 'jane', organizations: ['system:masters'], usages: ['client'], days: 1 });
  return { pki: { serverCa, clientCa, jane, stranger }, serving };
}

function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

let k8s: ClientNode;
let cp: ControlPlane;
let tmp: string;
let pki: Pki;
let server: string;
let serverCaFile: string;

beforeAll(async () => {
  k8s = await loadClientNode();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-http-clients-'));
  const made = await makePki();
  pki = made.pki;
  serverCaFile = writeFile(tmp, 'server-ca.crt', pki.serverCa.certPem);
  const httpPort = await freePort();
  server = `https://127.0.0.1:${httpPort}`;
  cp = await startControlPlane({
    dirPrefix: 'k8ts-http-clients-it-',
    apiserverArgs: [
      '--http-listen',
      `127.0.0.1:${httpPort}`,
      '--http-tls-cert',
      writeFile(tmp, 'serving.crt', made.serving.certPem),
      '--http-tls-key',
      writeFile(tmp, 'serving.key', made.serving.keyPem),
      '--client-ca-file',
      writeFile(tmp, 'client-ca.crt', pki.clientCa.certPem),
    ],
  });
}, 120_000);

afterAll(async () => {
  await cp?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// ---- client-node configuration --------------------------------------------------------

type Credentials = { token: string } | { cert: CertificateAndKey };

/** A KubeConfig built in code: the apiserver with its CA (verified), and one user. */
function kubeConfig(credentials: Credentials): K8s.KubeConfig {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  const user =
    'token' in credentials
      ? { name: 'user', token: credentials.token }
      : { name: 'user', certData: b64(credentials.cert.certPem), keyData: b64(credentials.cert.keyPem) };
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'k8ts', server, caData: b64(pki.serverCa.certPem), skipTLSVerify: false }],
    users: [user],
    contexts: [{ name: 'k8ts', cluster: 'k8ts', user: 'user' }],
    currentContext: 'k8ts',
  });
  return kc;
}

/** A GET with Node's https (server verified against the test CA), presenting `cert`. */
function httpsGet(pathname: string, cert: CertificateAndKey): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(pathname, server);
    const req = https.get(url, { ca: pki.serverCa.certPem, cert: cert.certPem, key: cert.keyPem, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${pathname}: no answer in 10 s`)));
    req.on('error', reject);
  });
}

const adminConfig = () => kubeConfig({ token: cp.adminToken });
const mergePatch = () => k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

async function createNamespace(name: string): Promise<void> {
  const core = adminConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
}

function deploymentBody(name: string, replicas: number, image = 'k8ts/echo:1'): K8s.V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image }] } },
    },
  };
}

/** The same Deployment as deploymentBody, as @k8ts/api's type for the gRPC client. */
function grpcDeployment(name: string, namespace: string, replicas: number, image = 'k8ts/echo:1'): appsv1.Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image }] } },
    },
  };
}

// ---- 1. @kubernetes/client-node ---------------------------------------------------------

describe('@kubernetes/client-node 1.x', () => {
  const ns = 'js-client';
  let core: K8s.CoreV1Api;
  let apps: K8s.AppsV1Api;

  beforeAll(async () => {
    await createNamespace(ns);
    const kc = adminConfig();
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
  });

  test('lists namespaces', async () => {
    const list = await core.listNamespace();
    const names = list.items.map((n) => n.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', ns]));
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
  });

  test('creates, reads, merge-patches and deletes a Deployment', async () => {
    const created = await apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody('web', 2) });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.generation).toBe(1);
    expect(Math.abs(new Date(created.metadata?.creationTimestamp ?? 0).getTime() - Date.now())).toBeLessThan(5 * 60_000);

    const read = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(read.spec?.replicas).toBe(2);
    expect(read.spec?.template.spec?.containers.map((c) => c.image)).toEqual(['k8ts/echo:1']);
    // Defaults filled by the server, as Kubernetes does.
    expect(read.spec?.strategy?.type).toBe('RollingUpdate');

    const patched = await apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: { spec: { replicas: 5 } } }, mergePatch());
    expect(patched.spec?.replicas).toBe(5);
    expect(patched.metadata?.generation).toBe(2);
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace: ns })).spec?.replicas).toBe(5);

    await apps.deleteNamespacedDeployment({ name: 'web', namespace: ns });
    const gone = await apiFailure(apps.readNamespacedDeployment({ name: 'web', namespace: ns }));
    expect(gone.code).toBe(404);
    expect(gone.status).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound', message: 'deployments.apps "web" not found' });
  });

  test('creates, merge-patches, lists by label and deletes ConfigMaps', async () => {
    const settings = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'settings', labels: { tier: 'backend' } }, data: { a: '1', keep: 'yes' } },
    });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'other', labels: { tier: 'frontend' } }, data: { x: '9' } } });

    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace: ns });
    expect(read.data).toEqual({ a: '1', keep: 'yes' });
    expect(read.metadata?.uid).toBe(settings.metadata?.uid);

    // A JSON merge patch: null removes a key, other keys are kept, maps merge.
    const patched = await core.patchNamespacedConfigMap(
      { name: 'settings', namespace: ns, body: { metadata: { labels: { patched: 'true' } }, data: { a: null, b: '2' } } },
      mergePatch(),
    );
    expect(patched.data).toEqual({ keep: 'yes', b: '2' });
    expect(patched.metadata?.labels).toEqual({ tier: 'backend', patched: 'true' });
    expect(patched.metadata?.uid).toBe(settings.metadata?.uid);

    const backend = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier=backend' });
    expect(backend.items.map((c) => c.metadata?.name)).toEqual(['settings']);
    expect(backend.items[0].data).toEqual({ keep: 'yes', b: '2' });
    const notBackend = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier!=backend,tier' });
    expect(notBackend.items.map((c) => c.metadata?.name)).toEqual(['other']);
    const patchedOnes = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'patched in (true)' });
    expect(patchedOnes.items.map((c) => c.metadata?.name)).toEqual(['settings']);

    await core.deleteNamespacedConfigMap({ name: 'settings', namespace: ns });
    expect((await apiFailure(core.readNamespacedConfigMap({ name: 'settings', namespace: ns }))).code).toBe(404);
    const left = await core.listNamespacedConfigMap({ namespace: ns });
    expect(left.items.map((c) => c.metadata?.name)).toEqual(['other']);
  });

  test('an Informer gets add and update events and caches the objects', async () => {
    const informerNs = 'js-informer';
    await createNamespace(informerNs);
    await core.createNamespacedConfigMap({ namespace: informerNs, body: { metadata: { name: 'before' }, data: { v: '0' } } });
    const informer = k8s.makeInformer(adminConfig(), `/api/v1/namespaces/${informerNs}/configmaps`, () => core.listNamespacedConfigMap({ namespace: informerNs }));
    const adds = new EventLog<{ name?: string; rv?: string; data?: Record<string, string> }>();
    const updates = new EventLog<{ name?: string; rv?: string; data?: Record<string, string> }>();
    const seen = (cm: K8s.V1ConfigMap) => ({ name: cm.metadata?.name, rv: cm.metadata?.resourceVersion, data: cm.data });
    informer.on('add', (cm) => adds.push(seen(cm)));
    informer.on('update', (cm) => updates.push(seen(cm)));
    informer.on('error', (err) => {
      adds.fail(err);
      updates.fail(err);
    });
    try {
      await informer.start();
      // The first list fills the cache (and announces what it found as adds).
      expect(informer.get('before', informerNs)?.data).toEqual({ v: '0' });
      const listed = adds.events.length;

      const created = await core.createNamespacedConfigMap({ namespace: informerNs, body: { metadata: { name: 'live' }, data: { v: '1' } } });
      const [added] = (await adds.waitFor(listed + 1, 'informer add')).slice(listed);
      expect(added).toEqual({ name: 'live', rv: created.metadata?.resourceVersion, data: { v: '1' } });

      const changed = await core.patchNamespacedConfigMap({ name: 'live', namespace: informerNs, body: { data: { v: '2' } } }, mergePatch());
      const [updated] = await updates.waitFor(1, 'informer update');
      expect(updated).toEqual({ name: 'live', rv: changed.metadata?.resourceVersion, data: { v: '2' } });

      expect(informer.get('live', informerNs)?.data).toEqual({ v: '2' });
      expect(informer.get('live', informerNs)?.metadata?.resourceVersion).toBe(changed.metadata?.resourceVersion);
      expect(
        informer
          .list(informerNs)
          .map((c) => c.metadata?.name)
          .sort(),
      ).toEqual(['before', 'live']);
    } finally {
      await informer.stop();
    }
  });
});

// ---- 2. the Python client ---------------------------------------------------------------

interface PythonResult {
  namespaces: string[];
  pods: { name: string; uid: string; image: string; phase: string | null }[];
  watch: { startResourceVersion: string; events: { type: string; name: string; resourceVersion: string; data: Record<string, string> }[] };
}

/** The Python check as a process: its JSON lines, and its exit. */
function runPythonCheck(args: string[]): { proc: ChildProcessWithoutNullStreams; lines: EventLog<Record<string, unknown>>; exit: Promise<number | null>; stderr: () => string } {
  const proc = spawn(PYTHON, [PYTHON_CHECK, ...args], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  const lines = new EventLog<Record<string, unknown>>();
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  createInterface(proc.stdout).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.fail(new Error(`not JSON: ${line}`));
    }
  });
  const exit = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  exit.then((code) => {
    if (code !== 0) lines.fail(new Error(`python exited with ${code}:\n${stderr}`));
  });
  return { proc, lines, exit, stderr: () => stderr };
}

describe('the Python kubernetes client', () => {
  const ns = 'py-client';

  beforeAll(async () => {
    if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing (Debian packages python3 and python3-kubernetes)`);
    await createNamespace(ns);
  });

  test('lists pods and namespaces, and watches a ConfigMap being added and modified', async () => {
    const core = adminConfig().makeApiClient(k8s.CoreV1Api);
    const pod = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'py-pod' }, spec: { containers: [{ name: 'app', image: 'k8ts/echo:2' }] } } });
    const watchSeconds = WATCH_TIMEOUT_MS / 1000;
    const run = runPythonCheck([server, serverCaFile, cp.tokenFile('admin'), ns, 'py-cm', String(watchSeconds)]);
    try {
      const [watching] = await run.lines.waitFor(1, 'python: the watch to start');
      expect(watching.watching).toMatch(/^\d+$/);
      const created = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'py-cm' }, data: { v: '1' } } });
      const changed = await core.patchNamespacedConfigMap({ name: 'py-cm', namespace: ns, body: { data: { v: '2' } } }, mergePatch());

      const [, last] = await run.lines.waitFor(2, 'python: the result');
      expect(await run.exit).toBe(0);
      const result = last as unknown as PythonResult;
      expect(result.namespaces).toEqual(expect.arrayContaining(['default', 'kube-system', ns]));
      expect(result.pods).toEqual([{ name: 'py-pod', uid: pod.metadata?.uid, image: 'k8ts/echo:2', phase: 'Pending' }]);
      expect(result.watch.startResourceVersion).toBe(watching.watching);
      expect(result.watch.events).toEqual([
        { type: 'ADDED', name: 'py-cm', resourceVersion: created.metadata?.resourceVersion, data: { v: '1' } },
        { type: 'MODIFIED', name: 'py-cm', resourceVersion: changed.metadata?.resourceVersion, data: { v: '2' } },
      ]);
    } finally {
      run.proc.kill('SIGKILL');
      await run.exit;
    }
  });
});

// ---- 3. one object, two doors ------------------------------------------------------------

/** What a watch event says, compared across the doors. */
interface Seen {
  type: string;
  name: string;
  resourceVersion: string;
}

describe('one object through HTTP and gRPC', () => {
  const ns = 'two-doors';
  let apps: K8s.AppsV1Api;
  let grpcClient: GrpcClientset;

  beforeAll(async () => {
    await createNamespace(ns);
    apps = adminConfig().makeApiClient(k8s.AppsV1Api);
    grpcClient = connect({ address: cp.apiserverAddress, token: cp.adminToken });
  });
  afterAll(() => grpcClient?.close());

  test('a Deployment created over HTTP reads the same over gRPC', async () => {
    const created = await apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody('from-http', 3) });
    const read = await grpcClient.deployments.get('from-http', { namespace: ns });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(read.metadata?.generation).toBe(1);
    expect(read.spec?.replicas).toBe(3);
    expect(read.spec?.template?.spec?.containers?.map((c) => c.image)).toEqual(['k8ts/echo:1']);
  });

  test('a Deployment created over gRPC reads the same over HTTP', async () => {
    const created = await grpcClient.deployments.create(grpcDeployment('from-grpc', ns, 4, 'k8ts/echo:3'));
    const read = await apps.readNamespacedDeployment({ name: 'from-grpc', namespace: ns });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(read.spec?.replicas).toBe(4);
    expect(read.spec?.template.spec?.containers.map((c) => c.image)).toEqual(['k8ts/echo:3']);
  });

  test('an HTTP watch and a gRPC watch from one resourceVersion see the same events', async () => {
    const start = (await apps.listNamespacedDeployment({ namespace: ns })).metadata?.resourceVersion;
    expect(start).toMatch(/^\d+$/);
    const overHttp = new EventLog<Seen>();
    const overGrpc = new EventLog<Seen>();
    const seen = (type: string, obj: { metadata?: { name?: string; resourceVersion?: string } }): Seen => ({
      type,
      name: obj.metadata?.name ?? '',
      resourceVersion: obj.metadata?.resourceVersion ?? '',
    });
    const httpWatch = await new k8s.Watch(adminConfig()).watch(
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      { resourceVersion: start },
      (type, obj) => overHttp.push(seen(type, obj)),
      (err) => overHttp.fail(err ?? new Error('the server ended the HTTP watch')),
    );
    const grpcWatch = grpcClient.deployments.watch({ namespace: ns, resourceVersion: start });
    const grpcDone = (async () => {
      for await (const ev of grpcWatch) overGrpc.push(seen(ev.type, ev.object));
    })().catch((err) => overGrpc.fail(err));
    try {
      // Writes through both doors, while both watch.
      await apps.createNamespacedDeployment({ namespace: ns, body: deploymentBody('w1', 1) });
      const w2 = await grpcClient.deployments.create(grpcDeployment('w2', ns, 1));
      await apps.patchNamespacedDeployment({ name: 'w1', namespace: ns, body: { spec: { replicas: 2 } } }, mergePatch());
      await grpcClient.deployments.update({ ...w2, spec: { ...w2.spec, replicas: 3 } });
      await grpcClient.deployments.delete('w1', { namespace: ns });
      await apps.deleteNamespacedDeployment({ name: 'w2', namespace: ns });

      const fromHttp = await overHttp.waitFor(6, 'the HTTP watch');
      const fromGrpc = await overGrpc.waitFor(6, 'the gRPC watch');
      expect(fromHttp.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED w1', 'ADDED w2', 'MODIFIED w1', 'MODIFIED w2', 'DELETED w1', 'DELETED w2']);
      expect(fromGrpc).toEqual(fromHttp);
      const versions = fromHttp.map((e) => Number(e.resourceVersion));
      expect(versions[0]).toBeGreaterThan(Number(start));
      // Strictly increasing: sorted, and no version twice.
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
    } finally {
      httpWatch.abort();
      grpcWatch.stop();
      await grpcDone;
    }
  });
});

// ---- 4. x509 client certificates --------------------------------------------------------

describe('x509 client certificates', () => {
  const ns = 'x509';

  beforeAll(async () => {
    await createNamespace(ns);
    const rbac = adminConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: { metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'devs-read-cm' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' }],
      },
    });
  });

  test('a certificate of the client CA authenticates as its CN, in the groups of its O', async () => {
    const core = kubeConfig({ cert: pki.jane }).makeApiClient(k8s.CoreV1Api);
    // Allowed through the group "devs" (the binding reaches the authorizer's cache shortly).
    const list = await waitUntil('jane (group devs) to list configmaps', () => core.listNamespacedConfigMap({ namespace: ns }));
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);

    const refused = await apiFailure(core.listNamespacedSecret({ namespace: ns }));
    expect(refused.code).toBe(403);
    expect(refused.status).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden' });
    expect(refused.status.message).toBe(`secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" in the namespace "${ns}"`);
  });

  test('a certificate of another CA is refused with 401, whatever it claims', async () => {
    const core = kubeConfig({ cert: pki.stranger }).makeApiClient(k8s.CoreV1Api);
    const refused = await apiFailure(core.listNamespace());
    expect(refused.code).toBe(401);
    // client-node drops the body of a 401 (its OpenAPI spec declares none): read it directly.
    const raw = await httpsGet('/api/v1/namespaces', pki.stranger);
    expect(raw.status).toBe(401);
    expect(JSON.parse(raw.body)).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
  });
});
