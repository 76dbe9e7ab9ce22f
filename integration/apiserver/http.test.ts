// The Kubernetes HTTP API of a real apiserver process (real store, real nats-server), over
// HTTPS with Node's own clients (HTTP/1.1 and HTTP/2): discovery, the verbs, watch, Tables,
// and Kubernetes' answers to bad requests (Status objects, codes, reasons, messages). After
// every bad request the server must still answer a good one.
import * as http2 from 'http2';
import * as https from 'https';
import { type ControlPlane, startControlPlane } from '@k8ts/testkit';

let cp: ControlPlane;
let base: URL;

beforeAll(async () => {
  cp = await startControlPlane({
    dirPrefix: 'k8ts-http-it-',
    users: [{ name: 'jane', uid: 'jane-uid', groups: [] }],
    apiserverArgs: ['--watch-cache-max-events', '100'],
  });
  if (!cp.httpUrl) throw new Error(`the apiserver did not log its HTTP address:\n${cp.apiserver.logs()}`);
  base = new URL(cp.httpUrl);
});

afterAll(async () => {
  await cp?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One HTTPS/1.1 request (the apiserver's certificate is self-signed here: not verified). */
function request(method: string, path: string, opts: { body?: string | Buffer; type?: string; accept?: string; token?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
  const token = opts.token === undefined ? cp.adminToken : opts.token;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        rejectUnauthorized: false,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(opts.type ? { 'content-type': opts.type } : opts.body ? { 'content-type': 'application/json' } : {}),
          ...(opts.accept ? { accept: opts.accept } : {}),
          ...(opts.headers ?? {}),
          // Node sends a DELETE body without a length or chunking unless told its length.
          ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
        },
        timeout: 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 20 s`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const CM = '/api/v1/namespaces/default/configmaps';

function expectStatus(a: Answer, code: number, reason: string, message?: string | RegExp): void {
  expect({ status: a.status, kind: a.json?.kind, code: a.json?.code, reason: a.json?.reason }).toEqual({ status: code, kind: 'Status', code, reason });
  if (typeof message === 'string') expect(a.json.message).toBe(message);
  else if (message) expect(a.json.message).toMatch(message);
}

async function stillServes(): Promise<void> {
  const a = await request('GET', '/api/v1/namespaces/default');
  expect(a.status).toBe(200);
  expect(a.json.metadata.name).toBe('default');
}

describe('discovery', () => {
  it('serves the legacy documents kubectl reads', async () => {
    const api = await request('GET', '/api');
    expect(api.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = await request('GET', '/apis');
    expect(groups.json.kind).toBe('APIGroupList');
    expect(groups.json.groups.map((g: { name: string }) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'coordination.k8s.io', 'rbac.authorization.k8s.io']));
    const v1 = await request('GET', '/api/v1');
    const pods = v1.json.resources.find((r: { name: string }) => r.name === 'pods');
    expect(pods).toMatchObject({ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'], categories: ['all'] });
    expect(pods.verbs).toEqual(expect.arrayContaining(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']));
    expect(v1.json.resources.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['pods/status', 'pods/log', 'pods/binding', 'pods/eviction', 'serviceaccounts/token']));
    const apps = await request('GET', '/apis/apps/v1');
    const scale = apps.json.resources.find((r: { name: string }) => r.name === 'deployments/scale');
    expect(scale).toMatchObject({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
  });

  it('serves aggregated discovery (apidiscovery.k8s.io/v2) when asked', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const a = await request('GET', '/apis', { accept });
    expect(a.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(a.json.kind).toBe('APIGroupDiscoveryList');
    const apps = a.json.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'apps');
    const deploy = apps.versions[0].resources.find((r: { resource: string }) => r.resource === 'deployments');
    expect(deploy).toMatchObject({ scope: 'Namespaced', singularResource: 'deployment', shortNames: ['deploy'], responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
    expect(deploy.subresources.map((s: { subresource: string }) => s.subresource).sort()).toEqual(['scale', 'status']);
  });

  it('answers /version, health checks (with ?verbose) and over HTTP/2', async () => {
    const v = await request('GET', '/version', { token: null });
    expect(v.json).toMatchObject({ major: '1', minor: '32' });
    const h = await request('GET', '/readyz?verbose', { token: null });
    expect(h.status).toBe(200);
    expect(h.text).toMatch(/\[\+\]ping ok\n[\s\S]*readyz check passed/);
    const session = http2.connect(base.origin, { rejectUnauthorized: false });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const s = session.request({ ':path': '/api/v1/namespaces', authorization: `Bearer ${cp.adminToken}` });
        let text = '';
        s.setEncoding('utf8');
        s.on('data', (c: string) => (text += c));
        s.on('end', () => resolve(text));
        s.on('error', reject);
      });
      expect(JSON.parse(body).kind).toBe('NamespaceList');
    } finally {
      session.close();
    }
  });
});

describe('verbs', () => {
  it('creates, reads, lists with selectors and pages, updates and deletes', async () => {
    for (const [name, tier] of [['cm-a', 'web'], ['cm-b', 'web'], ['cm-c', 'db']]) {
      const c = await request('POST', CM, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { tier } }, data: { k: name } }) });
      expect(c.status).toBe(201);
      expect(c.json).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });
    }
    const web = await request('GET', `${CM}?labelSelector=${encodeURIComponent('tier=web')}`);
    expect(web.json.kind).toBe('ConfigMapList');
    expect(web.json.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort()).toEqual(['cm-a', 'cm-b']);
    const byField = await request('GET', `${CM}?fieldSelector=${encodeURIComponent('metadata.name=cm-c')}`);
    expect(byField.json.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['cm-c']);
    const page1 = await request('GET', `${CM}?limit=2`);
    expect(page1.json.items).toHaveLength(2);
    expect(page1.json.metadata.continue).toBeTruthy();
    const page2 = await request('GET', `${CM}?limit=2&continue=${encodeURIComponent(page1.json.metadata.continue)}`);
    const names = [...page1.json.items, ...page2.json.items].map((i: { metadata: { name: string } }) => i.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['cm-a', 'cm-b', 'cm-c']));

    const got = await request('GET', `${CM}/cm-a`);
    const updated = await request('PUT', `${CM}/cm-a`, { body: JSON.stringify({ ...got.json, data: { k: 'changed' } }) });
    expect(updated.status).toBe(200);
    expect(updated.json.data).toEqual({ k: 'changed' });
    expect(Number(updated.json.metadata.resourceVersion)).toBeGreaterThan(Number(got.json.metadata.resourceVersion));
    // The stale version now conflicts, in Kubernetes' words.
    const stale = await request('PUT', `${CM}/cm-a`, { body: JSON.stringify({ ...got.json, data: { k: 'again' } }) });
    expectStatus(stale, 409, 'Conflict', 'Operation cannot be fulfilled on configmaps "cm-a": the object has been modified; please apply your changes to the latest version and try again');

    const dry = await request('DELETE', `${CM}/cm-b?dryRun=All`);
    expect(dry.status).toBe(200);
    expect((await request('GET', `${CM}/cm-b`)).status).toBe(200);
    const del = await request('DELETE', `${CM}/cm-b`, { body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' }) });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'cm-b', kind: 'configmaps' } });
    expectStatus(await request('GET', `${CM}/cm-b`), 404, 'NotFound', 'configmaps "cm-b" not found');
    const coll = await request('DELETE', `${CM}?labelSelector=tier%3Dweb`);
    expect(coll.status).toBe(200);
    expect(coll.json.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['cm-a']);
    expect((await request('GET', `${CM}/cm-c`)).status).toBe(200);
  });

  it('patches with merge and JSON patches, retrying a concurrent write and refusing a stale version', async () => {
    await request('POST', CM, { body: JSON.stringify({ metadata: { name: 'patched' }, data: { a: '1', b: '2' } }) });
    const merge = await request('PATCH', `${CM}/patched`, { type: 'application/merge-patch+json', body: JSON.stringify({ data: { b: null, c: '3' } }) });
    expect(merge.status).toBe(200);
    expect(merge.json.data).toEqual({ a: '1', c: '3' });
    const json = await request('PATCH', `${CM}/patched`, {
      type: 'application/json-patch+json',
      body: JSON.stringify([
        { op: 'test', path: '/data/a', value: '1' },
        { op: 'replace', path: '/data/a', value: 'one' },
      ]),
    });
    expect(json.status).toBe(200);
    expect(json.json.data).toEqual({ a: 'one', c: '3' });
    const failedTest = await request('PATCH', `${CM}/patched`, { type: 'application/json-patch+json', body: JSON.stringify([{ op: 'test', path: '/data/a', value: 'nope' }]) });
    expect(failedTest.status).toBe(422);
    expect(failedTest.json.kind).toBe('Status');
    const stale = await request('PATCH', `${CM}/patched`, { type: 'application/merge-patch+json', body: JSON.stringify({ metadata: { resourceVersion: '1' }, data: { x: 'y' } }) });
    expectStatus(stale, 409, 'Conflict');
    const unsupported = await request('PATCH', `${CM}/patched`, { type: 'application/xml', body: '<x/>' });
    expect(unsupported.status).toBe(415);
    await stillServes();
  });

  it('server-side apply: owners in managedFields, a conflict between managers, force', async () => {
    const apply = (manager: string, body: string, force = false) =>
      request('PATCH', `${CM}/ssa?fieldManager=${manager}${force ? '&force=true' : ''}`, { type: 'application/apply-patch+yaml', body });
    const created = await apply('alice', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  shared: a\n  mine: a\n');
    expect(created.status).toBe(201);
    expect(created.json.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'alice', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:mine': {}, 'f:shared': {} } } }),
    ]);
    const conflict = await apply('bob', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  shared: b\n');
    expectStatus(conflict, 409, 'Conflict', /Apply failed with 1 conflict: conflict with "alice": \.data\.shared/);
    expect(conflict.json.details.causes).toEqual([expect.objectContaining({ reason: 'FieldManagerConflict', field: '.data.shared' })]);
    const forced = await apply('bob', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  shared: b\n', true);
    expect(forced.status).toBe(200);
    expect(forced.json.data).toEqual({ shared: 'b', mine: 'a' });
    const owners = Object.fromEntries(forced.json.metadata.managedFields.map((e: { manager: string; fieldsV1: object }) => [e.manager, e.fieldsV1]));
    expect(owners).toEqual({ alice: { 'f:data': { 'f:mine': {} } }, bob: { 'f:data': { 'f:shared': {} } } });
    // alice stops applying "mine": it is removed, since nobody else owns it.
    const dropped = await apply('alice', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata: {}\n');
    expect(dropped.json.data).toEqual({ shared: 'b' });
    // An ordinary update records its manager as an Update entry.
    const updated = await request('PATCH', `${CM}/ssa?fieldManager=carol`, { type: 'application/merge-patch+json', body: JSON.stringify({ data: { other: 'c' } }) });
    expect(updated.json.metadata.managedFields).toEqual(expect.arrayContaining([expect.objectContaining({ manager: 'carol', operation: 'Update', fieldsV1: { 'f:data': { 'f:other': {} } } })]));
    const noManager = await request('PATCH', `${CM}/ssa`, { type: 'application/apply-patch+yaml', body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n' });
    expectStatus(noManager, 422, 'Invalid', /fieldManager: Required value/);
  });

  it('serves Tables with the columns Kubernetes prints', async () => {
    const a = await request('GET', '/api/v1/namespaces', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    expect(a.json.kind).toBe('Table');
    expect(a.json.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Status', 'Age']);
    const row = a.json.rows.find((r: { cells: unknown[] }) => r.cells[0] === 'default');
    expect(row.cells[1]).toBe('Active');
    expect(row.object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'default' } });
  });
});

describe('watch', () => {
  /** Reads a watch stream's events until `count` arrived or the stream ended. */
  function watch(path: string, count: number): Promise<{ type: string; object: any }[]> {
    return new Promise((resolve, reject) => {
      const events: { type: string; object: any }[] = [];
      const req = https.request({ host: base.hostname, port: base.port, path, rejectUnauthorized: false, headers: { authorization: `Bearer ${cp.adminToken}` } }, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let i = buf.indexOf('\n');
          while (i >= 0) {
            events.push(JSON.parse(buf.slice(0, i)));
            buf = buf.slice(i + 1);
            i = buf.indexOf('\n');
          }
          if (events.length >= count) {
            req.destroy();
            resolve(events);
          }
        });
        res.on('end', () => resolve(events));
      });
      req.on('error', (err) => (events.length >= count ? resolve(events) : reject(err)));
      setTimeout(() => {
        req.destroy();
        resolve(events);
      }, 20_000).unref();
      req.end();
    });
  }

  it('streams ADDED, MODIFIED and DELETED in order from a resourceVersion', async () => {
    const start = await request('GET', CM);
    const rv = start.json.metadata.resourceVersion;
    const events = watch(`${CM}?watch=1&resourceVersion=${rv}&labelSelector=w%3D1`, 3);
    await request('POST', CM, { body: JSON.stringify({ metadata: { name: 'watched', labels: { w: '1' } } }) });
    await request('PATCH', `${CM}/watched`, { type: 'application/merge-patch+json', body: JSON.stringify({ data: { x: '1' } }) });
    await request('DELETE', `${CM}/watched`);
    const got = await events;
    expect(got.map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'watched'],
      ['MODIFIED', 'watched'],
      ['DELETED', 'watched'],
    ]);
    expect(Number(got[1].object.metadata.resourceVersion)).toBeGreaterThan(Number(got[0].object.metadata.resourceVersion));
  });

  it('ends at timeoutSeconds, sends bookmarks when asked, and answers 410 Expired for a version too old', async () => {
    const t0 = Date.now();
    const ended = await watch(`${CM}?watch=1&timeoutSeconds=1&allowWatchBookmarks=true&resourceVersion=0&labelSelector=none%3Dx`, 1000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(ended.filter((e) => e.type !== 'BOOKMARK')).toEqual([]);
    // The watch cache keeps 100 events here: push the first versions out of it.
    for (let i = 0; i < 120; i++) await request('POST', CM, { body: JSON.stringify({ metadata: { name: `churn-${i}` } }) });
    const old = await watch(`${CM}?watch=1&resourceVersion=2`, 1);
    expect(old[0].type).toBe('ERROR');
    expect(old[0].object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    await request('DELETE', `${CM}?labelSelector=`);
  });
});

describe("bad requests get Kubernetes' answers", () => {
  it('malformed JSON, unknown and duplicate fields, wrong kind, oversized bodies', async () => {
    expectStatus(await request('POST', CM, { body: '{"metadata": {' }), 400, 'BadRequest', /^ConfigMap in version "v1" cannot be handled as a ConfigMap: json parse error/);
    const strict = await request('POST', `${CM}?fieldValidation=Strict`, { body: '{"metadata":{"name":"s"},"spec":{},"data":{},"data":{}}' });
    expectStatus(strict, 400, 'BadRequest', 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "spec", duplicate field "data"');
    const warn = await request('POST', `${CM}?fieldValidation=Warn`, { body: '{"metadata":{"name":"warned","bogus":1}}' });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"metadata.bogus\\""');
    const wrongKind = await request('POST', CM, { body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }) });
    expectStatus(wrongKind, 400, 'BadRequest', 'the kind in the data (Secret) does not match the expected kind (ConfigMap)');
    const wrongType = await request('POST', CM, { body: JSON.stringify({ metadata: { name: 'x', labels: 'nope' } }) });
    expectStatus(wrongType, 400, 'BadRequest', /metadata\.labels: expected object/);
    const otherNs = await request('POST', CM, { body: JSON.stringify({ metadata: { name: 'x', namespace: 'kube-system' } }) });
    expectStatus(otherNs, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    const big = await request('POST', CM, { body: Buffer.alloc(4 * 1024 * 1024, 'a') });
    expectStatus(big, 413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    const invalid = await request('POST', CM, { body: JSON.stringify({ metadata: { name: 'Bad_Name' } }) });
    expectStatus(invalid, 422, 'Invalid', /^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name"/);
    expect(invalid.json.details.causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
    const withRv = await request('POST', CM, { body: JSON.stringify({ metadata: { name: 'rv', resourceVersion: '5' } }) });
    expectStatus(withRv, 400, 'BadRequest', 'resourceVersion should not be set on objects to be created');
    await stillServes();
  });

  it('unknown resources, media types it does not speak, and bad list options', async () => {
    expectStatus(await request('GET', '/api/v1/namespaces/default/widgets'), 404, 'NotFound', 'the server could not find the requested resource');
    expectStatus(await request('GET', '/apis/nope.example.com/v1/things'), 404, 'NotFound');
    // Kubernetes subresources not built yet answer 501, not a misleading 405.
    expectStatus(await request('POST', '/api/v1/namespaces/default/pods/web/exec?command=ls'), 501, 'NotImplemented', /pods\/exec is not served by k8ts yet/);
    expect((await request('GET', CM, { accept: 'application/vnd.kubernetes.protobuf' })).status).toBe(406);
    expect((await request('POST', CM, { type: 'application/xml', body: '<ConfigMap/>' })).status).toBe(415);
    // Kubernetes protobuf bodies are read (kubectl's typed clients send them); a broken one is a 400.
    expectStatus(await request('POST', CM, { type: 'application/vnd.kubernetes.protobuf', body: Buffer.from([1, 2, 3]) }), 400, 'BadRequest');
    expectStatus(await request('GET', `${CM}?resourceVersionMatch=Exact`), 422, 'Invalid', /resourceVersionMatch is forbidden unless resourceVersion is provided/);
    expectStatus(await request('GET', `${CM}?labelSelector=${encodeURIComponent('a in (')}`), 400, 'BadRequest');
    await stillServes();
  });

  it('authentication and authorization failures', async () => {
    expectStatus(await request('GET', CM, { token: null }), 401, 'Unauthorized');
    expectStatus(await request('GET', CM, { token: 'not-a-token' }), 401, 'Unauthorized');
    const forbidden = await request('GET', CM, { token: cp.token('jane') });
    expectStatus(forbidden, 403, 'Forbidden', 'configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "default"');
    const forbiddenOne = await request('DELETE', '/apis/apps/v1/namespaces/default/deployments/web', { token: cp.token('jane') });
    expectStatus(forbiddenOne, 403, 'Forbidden', 'deployments.apps "web" is forbidden: User "jane" cannot delete resource "deployments" in API group "apps" in the namespace "default"');
    // Impersonation (kubectl --as): the admin may act as jane, and then has jane's rights only.
    const asJane = await request('GET', CM, { headers: { 'impersonate-user': 'jane' } });
    expectStatus(asJane, 403, 'Forbidden', 'configmaps is forbidden: User "jane" cannot list resource "configmaps" in API group "" in the namespace "default"');
    const review = await request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
      headers: { 'impersonate-user': 'system:serviceaccount:default:builder' },
    });
    expect(review.json.status.userInfo).toEqual({
      username: 'system:serviceaccount:default:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    });
    const janeAsAdmin = await request('GET', CM, { token: cp.token('jane'), headers: { 'impersonate-user': 'admin', 'impersonate-group': 'system:masters' } });
    expectStatus(janeAsAdmin, 403, 'Forbidden', 'users "admin" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope');
    await stillServes();
  });
});
