import { NodeAuthorizer, podReferences, RbacAuthorizer, UnionAuthorizer, bootstrapPolicy } from '../../src/auth';
import { attrs, FakeNodeGraph, FakeRbacSource, FakeServiceAccountSource, pod, user } from './fakes';

const n1 = user('system:node:n1', 'system:nodes');

function fixture() {
  const graph = new FakeNodeGraph([
    pod('default', 'web', 'n1', {
      serviceAccountName: 'web-sa',
      containers: [
        {
          name: 'c',
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db-password', key: 'p' } } }],
          envFrom: [{ configMapRef: { name: 'web-env' } }],
        },
      ],
      volumes: [
        { name: 'tls', secret: { secretName: 'web-tls' } },
        { name: 'proj', projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-secret' } }] } },
      ],
      imagePullSecrets: [{ name: 'registry' }],
    }),
    pod('default', 'api', 'n2', { containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'api-secret' } }] }] }),
    pod('default', 'pending', '', {}),
  ]);
  const accounts = new FakeServiceAccountSource();
  accounts.addAccount('default', 'web-sa', 'u1', { secrets: [{ name: 'web-sa-token' }] });
  return { graph, accounts, node: new NodeAuthorizer(graph, { serviceAccounts: accounts }) };
}

describe('node authorizer', () => {
  const { node } = fixture();
  const d = (a: Parameters<NodeAuthorizer['authorize']>[0]) => node.authorize(a).decision;

  test('reads what a kubelet and a proxy need', () => {
    for (const r of ['nodes', 'pods', 'services', 'endpoints']) {
      for (const v of ['get', 'list', 'watch'] as const) expect(d(attrs(n1, v, r, { namespace: r === 'nodes' ? undefined : 'default' }))).toBe('allow');
    }
  });

  test('its own Node and Node status: yes; another node: denied', () => {
    for (const v of ['create', 'update', 'patch', 'get'] as const) {
      expect(d(attrs(n1, v, 'nodes', { name: 'n1' }))).toBe('allow');
      expect(d(attrs(n1, v, 'nodes/status', { name: 'n1' }))).toBe('allow');
    }
    expect(node.authorize(attrs(n1, 'update', 'nodes', { name: 'n2' }))).toEqual({
      decision: 'deny',
      reason: "node 'n1' cannot update node 'n2': a node may only write its own Node object",
    });
    expect(node.authorize(attrs(n1, 'patch', 'nodes/status', { name: 'n2' }))).toEqual({
      decision: 'deny',
      reason: "node 'n1' cannot patch the status of node 'n2': a node may only write its own Node object",
    });
    expect(d(attrs(n1, 'get', 'nodes', { name: 'n2' }))).toBe('allow'); // reading other nodes is fine
    expect(d(attrs(n1, 'delete', 'nodes', { name: 'n1' }))).toBe('noopinion');
    expect(d(attrs(n1, 'create', 'nodes'))).toBe('noopinion'); // no name: cannot tell which node
  });

  test('status of its own pods: yes; of a pod on another node or unbound: denied, naming node and pod', () => {
    expect(d(attrs(n1, 'update', 'pods/status', { namespace: 'default', name: 'web' }))).toBe('allow');
    expect(d(attrs(n1, 'patch', 'pods/status', { namespace: 'default', name: 'web' }))).toBe('allow');
    expect(node.authorize(attrs(n1, 'update', 'pods/status', { namespace: 'default', name: 'api' }))).toEqual({
      decision: 'deny',
      reason: "node 'n1' cannot update the status of pod default/api: it is bound to node 'n2'",
    });
    expect(node.authorize(attrs(n1, 'update', 'pods/status', { namespace: 'default', name: 'pending' }))).toEqual({
      decision: 'deny',
      reason: "node 'n1' cannot update the status of pod default/pending: it is not bound to any node",
    });
    expect(d(attrs(n1, 'update', 'pods/status', { namespace: 'default', name: 'ghost' }))).toBe('noopinion');
  });

  test('pods themselves: only deleting its own (end of graceful deletion)', () => {
    expect(d(attrs(n1, 'delete', 'pods', { namespace: 'default', name: 'web' }))).toBe('allow');
    expect(node.authorize(attrs(n1, 'delete', 'pods', { namespace: 'default', name: 'api' })).reason).toBe(
      "node 'n1' cannot delete pod default/api: it is bound to node 'n2'",
    );
    for (const v of ['create', 'update', 'patch'] as const) expect(d(attrs(n1, v, 'pods', { namespace: 'default', name: 'web' }))).toBe('noopinion');
    expect(d(attrs(n1, 'create', 'pods/binding', { namespace: 'default', name: 'pending' }))).toBe('noopinion');
  });

  test('secrets and config maps referenced by its pods: yes; others: no opinion', () => {
    for (const s of ['db-password', 'web-tls', 'proj-secret', 'registry', 'web-sa-token']) {
      expect(d(attrs(n1, 'get', 'secrets', { namespace: 'default', name: s }))).toBe('allow');
    }
    for (const c of ['web-env', 'proj-cm']) expect(d(attrs(n1, 'get', 'configmaps', { namespace: 'default', name: c }))).toBe('allow');
    expect(d(attrs(n1, 'get', 'serviceaccounts', { namespace: 'default', name: 'web-sa' }))).toBe('allow');
    expect(d(attrs(n1, 'watch', 'secrets', { namespace: 'default', name: 'db-password' }))).toBe('allow'); // one named object

    expect(node.authorize(attrs(n1, 'get', 'secrets', { namespace: 'default', name: 'api-secret' }))).toEqual({
      decision: 'noopinion',
      reason: "no relationship found between node 'n1' and secrets default/api-secret",
    });
    expect(d(attrs(n1, 'get', 'secrets', { namespace: 'other', name: 'db-password' }))).toBe('noopinion'); // same name, other namespace
    expect(d(attrs(n1, 'get', 'configmaps', { namespace: 'default', name: 'db-password' }))).toBe('noopinion'); // a secret's name is not a config map
    expect(d(attrs(n1, 'list', 'secrets', { namespace: 'default' }))).toBe('noopinion');
    expect(d(attrs(n1, 'update', 'secrets', { namespace: 'default', name: 'db-password' }))).toBe('noopinion');
  });

  test('token secrets of the service account only while the token is mounted', () => {
    const { graph, accounts } = fixture();
    graph.pods[0].spec!.automountServiceAccountToken = false;
    const n = new NodeAuthorizer(graph, { serviceAccounts: accounts });
    expect(n.authorize(attrs(n1, 'get', 'secrets', { namespace: 'default', name: 'web-sa-token' })).decision).toBe('noopinion');
  });

  test('its own Lease in kube-node-lease only', () => {
    const lease = (verb: Parameters<typeof attrs>[1], name: string | undefined, namespace = 'kube-node-lease') =>
      attrs(n1, verb, 'leases', { apiGroup: 'coordination.k8s.io', namespace, name });
    for (const v of ['get', 'create', 'update', 'patch', 'delete'] as const) expect(d(lease(v, 'n1'))).toBe('allow');
    expect(node.authorize(lease('update', 'n2'))).toEqual({
      decision: 'deny',
      reason: "node 'n1' cannot update lease kube-node-lease/n2: a node may only access its own lease",
    });
    expect(d(lease('update', 'n1', 'kube-system'))).toBe('noopinion');
    expect(d(lease('list', undefined))).toBe('noopinion');
  });

  test('events: create and update; anything else: no opinion', () => {
    expect(d(attrs(n1, 'create', 'events', { namespace: 'default' }))).toBe('allow');
    expect(d(attrs(n1, 'update', 'events', { namespace: 'default', name: 'e' }))).toBe('allow');
    expect(d(attrs(n1, 'delete', 'events', { namespace: 'default', name: 'e' }))).toBe('noopinion');
    expect(d(attrs(n1, 'create', 'deployments', { apiGroup: 'apps', namespace: 'default' }))).toBe('noopinion');
    expect(d(attrs(n1, 'list', 'namespaces'))).toBe('noopinion');
  });

  test('users that are not nodes are none of its business', () => {
    expect(node.authorize(attrs(user('system:node:n1'), 'update', 'nodes', { name: 'n2' }))).toEqual({ decision: 'noopinion', reason: '' });
    expect(node.authorize(attrs(user('kubelet', 'system:nodes'), 'get', 'pods'))).toEqual({
      decision: 'noopinion',
      reason: 'unknown node for user "kubelet"',
    });
  });

  test('with RBAC and the bootstrap policy: a kubelet writing another node\'s pod is denied', async () => {
    const { graph } = fixture();
    const p = bootstrapPolicy();
    const chain = new UnionAuthorizer([
      new NodeAuthorizer(graph),
      new RbacAuthorizer(new FakeRbacSource(p.roles, p.clusterRoles, p.roleBindings, p.clusterRoleBindings)),
    ]);
    const denied = await chain.authorize(attrs(n1, 'update', 'pods/status', { namespace: 'default', name: 'api' }));
    expect(denied).toEqual({
      decision: 'deny',
      reason:
        'User "system:node:n1" cannot update resource "pods/status" in API group "" in the namespace "default": ' +
        "node 'n1' cannot update the status of pod default/api: it is bound to node 'n2'",
    });
    const secret = await chain.authorize(attrs(n1, 'get', 'secrets', { namespace: 'default', name: 'api-secret' }));
    expect(secret.reason).toBe(
      'User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": ' +
        "no relationship found between node 'n1' and secrets default/api-secret",
    );
    expect((await chain.authorize(attrs(n1, 'update', 'pods/status', { namespace: 'default', name: 'web' }))).decision).toBe('allow');
    expect((await chain.authorize(attrs(n1, 'list', 'services'))).decision).toBe('allow');
  });

  test('pod references cover env, envFrom, volumes, projections, pull secrets and the service account', () => {
    const { graph } = fixture();
    const refs = podReferences(graph.pods[0]);
    expect([...refs.secrets].sort()).toEqual(['db-password', 'proj-secret', 'registry', 'web-tls']);
    expect([...refs.configMaps].sort()).toEqual(['proj-cm', 'web-env']);
    expect([...refs.serviceAccounts]).toEqual(['web-sa']);
  });
});
