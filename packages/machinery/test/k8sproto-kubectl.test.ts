// Real bodies from a real kubectl: each command runs against a throwaway HTTP server that
// records what kubectl POSTs (application/vnd.kubernetes.protobuf), and the decoded body is
// compared with the JSON kubectl prints for the same object (`--dry-run=client -o json`), or,
// for the reviews, which kubectl cannot print, with the JSON Kubernetes documents. Skipped
// when no kubectl is installed (KUBECTL names another binary).
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { fromK8sJson } from '@k8ts/api';
import { K8S_PROTOBUF_MEDIA_TYPE, decodeK8sProtoBody } from '@k8ts/machinery';

const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const hasKubectl = spawnSync(KUBECTL, ['version', '--client'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
const run = promisify(execFile);

interface RecordedPost {
  path: string;
  contentType: string;
  body: Buffer;
}

/** What the recorder answers a POST to a review or token URL with, so that kubectl is satisfied. */
function answerFor(url: string): Record<string, unknown> {
  if (url.includes('/selfsubjectaccessreviews')) return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', status: { allowed: true } };
  if (url.includes('/selfsubjectrulesreviews')) return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', status: { resourceRules: [], nonResourceRules: [], incomplete: false } };
  if (url.includes('/selfsubjectreviews')) return { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', status: { userInfo: { username: 'admin' } } };
  if (/\/token(\?|$)/.test(url)) return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', status: { token: 'token', expirationTimestamp: '2030-01-01T00:00:00Z' } };
  return { metadata: { name: 'recorded' } };
}

/** Legacy discovery of the two resources the commands name, so that kubectl can resolve "deployments.apps". */
const DISCOVERY: Readonly<Record<string, unknown>> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }],
  },
  '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['create', 'get'] }] },
  '/apis/apps/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'apps/v1',
    resources: [
      { name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['create', 'get'] },
      { name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'update'] },
    ],
  },
};

/** A server that records every POST and answers just enough for kubectl's commands. */
class Recorder {
  readonly posts: RecordedPost[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const json = (code: number, value: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST') {
        this.posts.push({ path: url.split('?')[0], contentType: String(req.headers['content-type'] ?? ''), body: Buffer.concat(chunks) });
        json(201, answerFor(url));
      } else if (url.startsWith('/version')) json(200, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
      else if (DISCOVERY[url.split('?')[0]]) json(200, DISCOVERY[url.split('?')[0]]);
      else json(404, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
    });
  }
}

/** The arguments with flags added before a "--" (after it they would be the container's command). */
function withFlags(args: string[], ...flags: string[]): string[] {
  const end = args.indexOf('--');
  return end < 0 ? [...args, ...flags] : [...args.slice(0, end), ...flags, ...args.slice(end)];
}

/** Kubernetes' JSON with nulls dropped (kubectl prints "creationTimestamp": null; null means unset). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

(hasKubectl ? describe : describe.skip)('kubectl protobuf bodies', () => {
  jest.setTimeout(60_000);
  const recorder = new Recorder();
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const url = await recorder.listen();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8sproto-kubectl-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- cluster: {server: "${url}"}`,
        '  name: recorder',
        'contexts:',
        '- context: {cluster: recorder, user: tester, namespace: default}',
        '  name: recorder',
        'current-context: recorder',
        'users:',
        '- name: tester',
        '  user: {token: test-token}',
        '',
      ].join('\n'),
    );
    // HOME too, so that kubectl's discovery cache stays in the temporary directory.
    env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
  });

  afterAll(async () => {
    await recorder.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs kubectl and returns the one body it POSTed, with the path it went to. */
  async function capture(args: string[]): Promise<RecordedPost> {
    const before = recorder.posts.length;
    await run(KUBECTL, args, { env, timeout: 30_000 });
    const posts = recorder.posts.slice(before);
    expect(posts).toHaveLength(1);
    expect(posts[0].contentType).toBe(K8S_PROTOBUF_MEDIA_TYPE);
    return posts[0];
  }

  async function clientJson(args: string[]): Promise<unknown> {
    const { stdout } = await run(KUBECTL, withFlags(args, '--dry-run=client', '-o', 'json'), { env, timeout: 30_000 });
    return withoutNulls(JSON.parse(stdout));
  }

  it.each([
    ['a ConfigMap', ['create', 'configmap', 'x', '--from-literal=a=1'], '/api/v1/namespaces/default/configmaps', 'k8ts.core.v1.ConfigMap'],
    ['a Secret', ['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=pass=s3cr3t'], '/api/v1/namespaces/default/secrets', 'k8ts.core.v1.Secret'],
    ['a Deployment', ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=80'], '/apis/apps/v1/namespaces/default/deployments', 'k8ts.apps.v1.Deployment'],
    ['a Service (IntOrString both ways)', ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:https'], '/api/v1/namespaces/default/services', 'k8ts.core.v1.Service'],
    ['a Job', ['create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi'], '/apis/batch/v1/namespaces/default/jobs', 'k8ts.batch.v1.Job'],
    ['a Namespace', ['create', 'namespace', 'team-a'], '/api/v1/namespaces', 'k8ts.core.v1.Namespace'],
    ['a ServiceAccount', ['create', 'serviceaccount', 'builder'], '/api/v1/namespaces/default/serviceaccounts', 'k8ts.core.v1.ServiceAccount'],
    ['a RoleBinding', ['create', 'rolebinding', 'viewers', '--clusterrole=view', '--user=alice', '--serviceaccount=default:builder'], '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', 'k8ts.rbac.v1.RoleBinding'],
  ])('decodes %s as kubectl prints it in JSON', async (_what, args, urlPath, typeName) => {
    const post = await capture(withFlags(args, '--dry-run=server'));
    expect(post.path).toBe(urlPath);
    const decoded = decodeK8sProtoBody(post.body, typeName);
    expect(decoded.unknownFields).toEqual([]);
    expect(decoded.object).toEqual(await clientJson(args));
    expect(() => fromK8sJson(typeName, decoded.object)).not.toThrow();
  });

  const AUTHORIZATION = 'authorization.k8s.io/v1';
  const AUTHENTICATION = 'authentication.k8s.io/v1';
  it.each([
    [
      'a SelfSubjectAccessReview about a resource',
      ['auth', 'can-i', 'create', 'deployments.apps', '--subresource=scale', '-n', 'team-a'],
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      'k8ts.authorization.v1.SelfSubjectAccessReview',
      {
        apiVersion: AUTHORIZATION,
        kind: 'SelfSubjectAccessReview',
        metadata: {},
        spec: { resourceAttributes: { namespace: 'team-a', verb: 'create', group: 'apps', resource: 'deployments', subresource: 'scale' } },
        status: {},
      },
    ],
    [
      'a SelfSubjectAccessReview about a URL',
      ['auth', 'can-i', 'get', '/healthz'],
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      'k8ts.authorization.v1.SelfSubjectAccessReview',
      { apiVersion: AUTHORIZATION, kind: 'SelfSubjectAccessReview', metadata: {}, spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } }, status: {} },
    ],
    [
      'a SelfSubjectRulesReview',
      ['auth', 'can-i', '--list', '-n', 'team-a'],
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      'k8ts.authorization.v1.SelfSubjectRulesReview',
      { apiVersion: AUTHORIZATION, kind: 'SelfSubjectRulesReview', metadata: {}, spec: { namespace: 'team-a' }, status: {} },
    ],
    [
      'a SelfSubjectReview',
      ['auth', 'whoami'],
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      'k8ts.authentication.v1.SelfSubjectReview',
      { apiVersion: AUTHENTICATION, kind: 'SelfSubjectReview', metadata: {}, status: { userInfo: {} } },
    ],
    [
      'a TokenRequest',
      ['create', 'token', 'builder', '--audience=https://api.example', '--duration=10m'],
      '/api/v1/namespaces/default/serviceaccounts/builder/token',
      'k8ts.authentication.v1.TokenRequest',
      { apiVersion: AUTHENTICATION, kind: 'TokenRequest', metadata: {}, spec: { audiences: ['https://api.example'], expirationSeconds: 600 }, status: {} },
    ],
  ])('decodes %s', async (_what, args, urlPath, typeName, expected) => {
    const post = await capture(args);
    expect(post.path).toBe(urlPath);
    const decoded = decodeK8sProtoBody(post.body, typeName);
    expect(decoded.object).toEqual(expected);
    expect(() => fromK8sJson(typeName, decoded.object)).not.toThrow();
  });
});
