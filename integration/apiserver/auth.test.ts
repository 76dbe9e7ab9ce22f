// The authentication and authorization matrix over a real apiserver: no token, a bad token,
// an administrator, a user and a service account with and without RBAC rights, and kubelets
// writing their own and another node's objects. Also: health needs no token, RBAC writes
// cannot escalate, and every call lands in the audit log.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { type Apiserver, type Store, call, collect, eventually, expectCode, requireBuild, startApiserver, startStore } from './harness';
import { TOKENS, authArgs, authFiles, clientFor, kind, sample } from './fixtures';

const ADMIN = TOKENS.admin;
let store: Store;
let apiserver: Apiserver;
let auditPath: string;
const clients: grpc.Client[] = [];

function client(k: string): grpc.Client {
  const c = clientFor(kind(k), apiserver.address);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  requireBuild();
  store = await startStore();
  auditPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'k8ts-audit-')), 'audit.jsonl');
  apiserver = await startApiserver(store, [...authArgs(authFiles()), '--audit-log-path', auditPath]);
  const nss = client('Namespace');
  for (const name of ['team', 'other']) await call(nss, 'createNamespace', { namespace: { metadata: { name } } }, ADMIN);
}, 120000);

afterAll(async () => {
  for (const c of clients) c.close();
  await apiserver?.stop();
  await store?.stop();
});

describe('authentication', () => {
  it('refuses every RPC without a token, or with an unknown one, with UNAUTHENTICATED', async () => {
    const pods = client('Pod');
    for (const token of [undefined, 'not-a-known-token']) {
      await expectCode(call(pods, 'listPods', { namespace: 'team' }, token), grpc.status.UNAUTHENTICATED);
      await expectCode(call(pods, 'createPod', { pod: sample(kind('Pod'), 'x', 'team') }, token), grpc.status.UNAUTHENTICATED);
      await expectCode(call(client('Node'), 'getNode', { name: 'n1' }, token), grpc.status.UNAUTHENTICATED);
      const w = collect(pods, 'watchPods', { namespace: 'team' }, token);
      await eventually(() => w.error);
      expect(w.error!.code).toBe(grpc.status.UNAUTHENTICATED);
    }
  });

  it('leaves grpc.health.v1 open', async () => {
    const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true });
    const Health = (grpc.loadPackageDefinition(def) as any).grpc.health.v1.Health;
    const h = new Health(apiserver.address, grpc.credentials.createInsecure());
    clients.push(h);
    const res = await new Promise<any>((resolve, reject) => h.Check({ service: '' }, (e: Error | null, r: any) => (e ? reject(e) : resolve(r))));
    expect(res.status).toBe('SERVING');
  });

  it('lets the administrator do anything', async () => {
    await call(client('Pod'), 'createPod', { pod: sample(kind('Pod'), 'admins', 'team') }, ADMIN);
    expect((await call(client('Node'), 'listNodes', {}, ADMIN)).items).toBeDefined();
  });
});

describe('RBAC', () => {
  it('refuses a user without rights, naming user, verb and resource, until a binding grants them', async () => {
    const pods = client('Pod');
    const err = await expectCode(call(pods, 'listPods', { namespace: 'team' }, TOKENS.jane), grpc.status.PERMISSION_DENIED);
    expect(err.details).toBe('pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "team"');
    await call(
      client('RoleBinding'),
      'createRoleBinding',
      {
        roleBinding: {
          metadata: { name: 'jane-view', namespace: 'team' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ kind: 'User', name: 'jane' }],
        },
      },
      ADMIN,
    );
    await eventually(() => call(pods, 'listPods', { namespace: 'team' }, TOKENS.jane));
    // The binding is namespaced, and view does not write.
    await expectCode(call(pods, 'listPods', { namespace: 'other' }, TOKENS.jane), grpc.status.PERMISSION_DENIED);
    const err2 = await expectCode(call(pods, 'createPod', { pod: sample(kind('Pod'), 'janes', 'team') }, TOKENS.jane), grpc.status.PERMISSION_DENIED);
    expect(err2.details).toBe('pods "janes" is forbidden: User "jane" cannot create resource "pods" in API group "" in the namespace "team"');
  });

  it('authenticates service-account tokens, authorizes them by RBAC, and revokes them with their account', async () => {
    await call(client('ServiceAccount'), 'createServiceAccount', { serviceAccount: { metadata: { name: 'builder', namespace: 'team' } } }, ADMIN);
    const { token } = await call(client('ServiceAccount'), 'createServiceAccountToken', { namespace: 'team', name: 'builder', expirationSeconds: 3600 }, ADMIN);
    expect(token.split('.')).toHaveLength(3);
    const cms = client('ConfigMap');
    const err = await expectCode(call(cms, 'listConfigMaps', { namespace: 'team' }, token), grpc.status.PERMISSION_DENIED);
    expect(err.details).toContain('User "system:serviceaccount:team:builder" cannot list resource "configmaps"');
    await call(client('Role'), 'createRole', { role: { metadata: { name: 'cm-editor', namespace: 'team' }, rules: [{ verbs: ['get', 'list', 'create'], apiGroups: [''], resources: ['configmaps'] }] } }, ADMIN);
    await call(
      client('RoleBinding'),
      'createRoleBinding',
      {
        roleBinding: {
          metadata: { name: 'builder-cm', namespace: 'team' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-editor' },
          subjects: [{ kind: 'ServiceAccount', name: 'builder', namespace: 'team' }],
        },
      },
      ADMIN,
    );
    await eventually(() => call(cms, 'createConfigMap', { configMap: sample(kind('ConfigMap'), 'built', 'team') }, token));
    await expectCode(call(client('Secret'), 'listSecrets', { namespace: 'team' }, token), grpc.status.PERMISSION_DENIED);
    await call(client('ServiceAccount'), 'deleteServiceAccount', { namespace: 'team', name: 'builder' }, ADMIN);
    await eventually(async () => {
      try {
        await call(cms, 'listConfigMaps', { namespace: 'team' }, token);
        return false;
      } catch (e) {
        return (e as grpc.ServiceError).code === grpc.status.UNAUTHENTICATED;
      }
    });
  });

  it('refuses a binding that would grant more than its author holds', async () => {
    // jane may manage RBAC in "other", but does not hold cluster-admin's rights.
    await call(
      client('RoleBinding'),
      'createRoleBinding',
      {
        roleBinding: {
          metadata: { name: 'jane-admin', namespace: 'other' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
          subjects: [{ kind: 'User', name: 'jane' }],
        },
      },
      ADMIN,
    );
    const escalate = {
      roleBinding: {
        metadata: { name: 'jane-root', namespace: 'other' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'User', name: 'jane' }],
      },
    };
    await eventually(() => call(client('RoleBinding'), 'listRoleBindings', { namespace: 'other' }, TOKENS.jane));
    const err = await expectCode(call(client('RoleBinding'), 'createRoleBinding', escalate, TOKENS.jane), grpc.status.PERMISSION_DENIED);
    expect(err.details).toContain('user "jane" is attempting to grant RBAC permissions not currently held');
  });
});

describe('Node authorization', () => {
  it('lets a kubelet write its own Node and the status of its pods, and nothing of another node', async () => {
    const nodes = client('Node');
    await call(nodes, 'createNode', { node: sample(kind('Node'), 'n1', '') }, TOKENS.node1);
    const err = await expectCode(call(nodes, 'createNode', { node: sample(kind('Node'), 'n2', '') }, TOKENS.node1), grpc.status.PERMISSION_DENIED);
    expect(err.details).toContain('User "system:node:n1"');
    await call(nodes, 'createNode', { node: sample(kind('Node'), 'n2', '') }, TOKENS.node2);

    const pods = client('Pod');
    for (const [name, node] of [
      ['on-n1', 'n1'],
      ['on-n2', 'n2'],
    ]) {
      await call(pods, 'createPod', { pod: sample(kind('Pod'), name, 'team') }, ADMIN);
      await call(pods, 'bindPod', { binding: { metadata: { name, namespace: 'team' }, target: { kind: 'Node', name: node } } }, ADMIN);
    }
    const own = await eventually(async () => {
      const { pod } = await call(pods, 'getPod', { namespace: 'team', name: 'on-n1' }, TOKENS.node1);
      return pod;
    });
    const updated = (await call(pods, 'updatePodStatus', { pod: { ...own, status: { ...own.status, phase: 'Running', podIP: '127.244.1.2' } } }, TOKENS.node1)).pod;
    expect(updated.status.phase).toBe('Running');

    const theirs = (await call(pods, 'getPod', { namespace: 'team', name: 'on-n2' }, ADMIN)).pod;
    const err2 = await expectCode(
      call(pods, 'updatePodStatus', { pod: { ...theirs, status: { ...theirs.status, phase: 'Failed' } } }, TOKENS.node1),
      grpc.status.PERMISSION_DENIED,
    );
    expect(err2.details).toContain('User "system:node:n1" cannot update resource "pods/status"');
    await expectCode(call(pods, 'deletePod', { namespace: 'team', name: 'on-n2' }, TOKENS.node1), grpc.status.PERMISSION_DENIED);
    await expectCode(call(nodes, 'updateNodeStatus', { node: sample(kind('Node'), 'n2', '') }, TOKENS.node1), grpc.status.PERMISSION_DENIED);
  });
});

describe('audit log', () => {
  it('records who did what with which result', async () => {
    const lines = await eventually(() => {
      const text = fs.existsSync(auditPath) ? fs.readFileSync(auditPath, 'utf8') : '';
      const all = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      return all.some((r) => r.user === 'jane' && r.code === 'PERMISSION_DENIED') ? all : undefined;
    }) as any[];
    const denied = lines.find((r: any) => r.user === 'jane' && r.verb === 'list' && r.resource === 'pods' && r.code === 'PERMISSION_DENIED');
    expect(denied).toMatchObject({ apiGroup: '', namespace: 'team', method: '/k8ts.core.v1.PodService/ListPods' });
    expect(typeof denied.latencyMs).toBe('number');
    expect(lines.some((r: any) => r.user === 'admin' && r.verb === 'create' && r.resource === 'pods' && r.name === 'admins' && r.code === 'OK')).toBe(true);
    expect(lines.some((r: any) => r.user === '' && r.code === 'UNAUTHENTICATED')).toBe(true);
  });
});
