// The OpenAPI documents as the real kubectl (1.32, /usr/bin/kubectl) reads them: a throwaway
// HTTP server on a free port serves serveOpenAPI() plus the minimal legacy discovery kubectl
// needs (/version, /api, /apis, /api/v1, /apis/<group>/<version>, built from KINDS), and
// answers the few resource requests the create and apply checks make. Each kubectl run gets
// a temporary HOME, cache directory and empty KUBECONFIG.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { KINDS, protoDocRoot } from '@k8ts/api';
import { messageSchema } from '@k8ts/machinery';
import { serveOpenAPI } from '../src/openapi';

const KUBECTL = '/usr/bin/kubectl';
const haveKubectl = fs.existsSync(KUBECTL);
const describeKubectl = haveKubectl ? describe : describe.skip;

interface Seen {
  method: string;
  url: string;
  contentType?: string;
  body: string;
}

/** One object the server holds for the apply check (GET answers it, PATCH records the patch). */
const existing = new Map<string, Record<string, unknown>>();

function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const k of KINDS) seen.set(`${k.group}/${k.version}`, { group: k.group, version: k.version });
  return [...seen.values()];
}

function resourceList(group: string, version: string): Record<string, unknown> {
  const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
  const resources = KINDS.filter((k) => k.group === group && k.version === version).map((k) => ({
    name: k.resource,
    singularName: k.kind.toLowerCase(),
    namespaced: k.namespaced,
    kind: k.kind,
    verbs,
    shortNames: k.shortNames,
  }));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}

/** The legacy discovery documents; undefined for any other path. */
function discovery(pathname: string, host: string): unknown {
  if (pathname === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' };
  if (pathname === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: host }] };
  if (pathname === '/apis') {
    const groups = groupVersions()
      .filter((gv) => gv.group !== '')
      .map((gv) => {
        const v = { groupVersion: `${gv.group}/${gv.version}`, version: gv.version };
        return { name: gv.group, versions: [v], preferredVersion: v };
      });
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
  for (const gv of groupVersions()) {
    const prefix = gv.group === '' ? `/api/${gv.version}` : `/apis/${gv.group}/${gv.version}`;
    if (pathname === prefix) return resourceList(gv.group, gv.version);
  }
  return undefined;
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

/** Resource requests: POST echoes the object (created), GET and PATCH serve `existing`. */
function resource(req: http.IncomingMessage, pathname: string, body: string, res: http.ServerResponse): void {
  const object = existing.get(pathname);
  if (req.method === 'POST') sendJson(res, 201, JSON.parse(body));
  else if (object) sendJson(res, 200, object);
  else sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${pathname} not found` });
}

function startServer(seen: Seen[]): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const url = new URL(req.url ?? '/', 'http://localhost');
      seen.push({ method: req.method ?? 'GET', url: req.url ?? '/', contentType: req.headers['content-type'], body });
      const openapi = serveOpenAPI(req);
      if (openapi) {
        res.writeHead(openapi.status, openapi.headers);
        res.end(openapi.body);
        return;
      }
      const doc = discovery(url.pathname, req.headers.host ?? '');
      if (doc !== undefined) sendJson(res, 200, doc);
      else resource(req, url.pathname, body, res);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describeKubectl('kubectl 1.32 against the OpenAPI documents', () => {
  let server: http.Server;
  let home: string;
  let port: number;
  const seen: Seen[] = [];

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-openapi-kubectl-'));
    fs.writeFileSync(path.join(home, 'kubeconfig'), '');
    server = await startServer(seen);
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(home, { recursive: true, force: true });
  });

  /** Runs kubectl against the server with a private HOME, cache directory and KUBECONFIG. */
  function kubectl(args: string[], options: { stdin?: string; cache?: string } = {}): Promise<Run> {
    const { stdin, cache = 'cache' } = options;
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KUBECONFIG: path.join(home, 'kubeconfig') };
    const all = [...args, '--server', `http://127.0.0.1:${port}`, '--cache-dir', path.join(home, cache)];
    return new Promise((resolve) => {
      const child = execFile(KUBECTL, all, { env, timeout: 20_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      });
      child.stdin?.end(stdin ?? '');
    });
  }

  /** Whitespace-insensitive text, as kubectl wraps and indents descriptions. */
  const flat = (s: string): string => s.replace(/\s+/g, ' ').trim();

  /** The .proto comment of a field, as the document should carry it. */
  function protoComment(typeName: string, protoName: string): string {
    return flat(protoDocRoot().lookupType(typeName).fields[protoName].comment ?? '');
  }

  it('explains pods.spec.containers: the kind, the field, its description and every field of Container', async () => {
    const run = await kubectl(['explain', 'pods.spec.containers']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^KIND:\s+Pod\nVERSION:\s+v1\n/);
    expect(run.stdout).toMatch(/FIELD: containers <\[\]Container>/);
    const containersComment = protoComment('k8ts.core.v1.PodSpec', 'containers');
    expect(containersComment.length).toBeGreaterThan(20);
    expect(flat(run.stdout)).toContain(containersComment);
    expect(flat(run.stdout)).toContain(flat(protoDocRoot().lookupType('k8ts.core.v1.Container').comment ?? ''));
    for (const field of messageSchema('k8ts.core.v1.Container').fields) expect(run.stdout).toMatch(new RegExp(`\\n  ${field.name}\\t<`));
    expect(run.stdout).toMatch(/\n {2}name\t<string> -required-/);
    expect(run.stdout).toMatch(/\n {2}ports\t<\[\]ContainerPort>/);
  });

  it('explains deployment.spec.strategy: group, the IntOrString bounds of rollingUpdate', async () => {
    const strategy = await kubectl(['explain', 'deployment.spec.strategy']);
    expect(strategy.code).toBe(0);
    expect(strategy.stdout).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/);
    expect(strategy.stdout).toMatch(/FIELD: strategy <DeploymentStrategy>/);
    expect(flat(strategy.stdout)).toContain(protoComment('k8ts.apps.v1.DeploymentSpec', 'strategy'));
    expect(strategy.stdout).toMatch(/\n {2}rollingUpdate\t<RollingUpdateDeployment>/);
    expect(strategy.stdout).toMatch(/\n {2}type\t<string>/);
    expect(flat(strategy.stdout)).toContain(protoComment('k8ts.apps.v1.DeploymentStrategy', 'type'));

    const bounds = await kubectl(['explain', 'deployments.spec.strategy.rollingUpdate']);
    expect(bounds.code).toBe(0);
    expect(bounds.stdout).toMatch(/\n {2}maxSurge\t<IntOrString>/);
    expect(bounds.stdout).toMatch(/\n {2}maxUnavailable\t<IntOrString>/);
  });

  it('sends fieldValidation=Strict on create: the PATCH operation lists it, so no client-side validation (no /openapi/v2)', async () => {
    const before = seen.length;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx' }] } };
    const run = await kubectl(['create', '-f', '-', '--dry-run=server', '-o', 'name'], { stdin: JSON.stringify(pod) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const requests = seen.slice(before);
    const post = requests.find((r) => r.method === 'POST');
    expect(post?.url).toMatch(/^\/api\/v1\/namespaces\/default\/pods\?/);
    expect(new URL(post?.url ?? '/', 'http://x').searchParams.get('fieldValidation')).toBe('Strict');
    expect(requests.some((r) => r.url.startsWith('/openapi/v2'))).toBe(false);
  });

  it('applies with a strategic merge patch computed from the 3.0 document (containers merged by name)', async () => {
    const base = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } };
    const template = (image: string, sidecar: boolean) => ({
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image }, ...(sidecar ? [{ name: 'log', image: 'busybox' }] : [])] },
    });
    const applied = { ...base, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: template('nginx:1', true) } };
    existing.set('/apis/apps/v1/namespaces/default/deployments/web', {
      ...base,
      metadata: { ...base.metadata, uid: 'u1', resourceVersion: '7', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) } },
      spec: applied.spec,
    });
    const before = seen.length;
    const next = { ...applied, spec: { ...applied.spec, template: template('nginx:2', false) } };
    const run = await kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(next), cache: 'apply-cache' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const requests = seen.slice(before);
    expect(requests.some((r) => r.url.startsWith('/openapi/v3/apis/apps/v1?hash='))).toBe(true);
    expect(requests.some((r) => r.url.startsWith('/openapi/v2'))).toBe(false);
    const patch = requests.find((r) => r.method === 'PATCH');
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
    const body = JSON.parse(patch?.body ?? '{}');
    // Merging by the key "name" (x-kubernetes-patch-merge-key) is what yields these directives.
    expect(body.spec.template.spec['$setElementOrder/containers']).toEqual([{ name: 'web' }]);
    expect(body.spec.template.spec.containers).toEqual(expect.arrayContaining([{ name: 'web', image: 'nginx:2' }, { $patch: 'delete', name: 'log' }]));
  });

  it('caches a document linked with its hash: a second run reads it from the HTTP cache', async () => {
    const documentRequests = (): number => seen.filter((r) => r.url.startsWith('/openapi/v3/apis/batch/v1?')).length;
    const before = documentRequests();
    const first = await kubectl(['explain', 'jobs.spec'], { cache: 'cache-test' });
    expect(first.code).toBe(0);
    expect(documentRequests()).toBe(before + 1);
    const second = await kubectl(['explain', 'jobs.spec.template'], { cache: 'cache-test' });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/FIELD: template <PodTemplateSpec>/);
    expect(documentRequests()).toBe(before + 1);
  });

  it('gets 406 for the protobuf Swagger 2.0 document client-go asks for', async () => {
    const run = await kubectl(['explain', 'pods', '--output', 'plaintext-openapiv2']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/application\/json only|NotAcceptable|not acceptable/i);
  });
});
