import {
  bootstrapPolicy,
  controllerRules,
  RbacAuthorizer,
  UnionAuthorizer,
  NodeAuthorizer,
  type Attributes,
} from '../../src/auth';
import { attrs, FakeNodeGraph, FakeRbacSource, user } from './fakes';

function authorizer() {
  const p = bootstrapPolicy();
  const rbac = new RbacAuthorizer(new FakeRbacSource(p.roles, p.clusterRoles, p.roleBindings, p.clusterRoleBindings));
  return new UnionAuthorizer([new NodeAuthorizer(new FakeNodeGraph()), rbac]);
}

const scheduler = user('system:kube-scheduler');
const cm = user('system:kube-controller-manager');
const proxy = user('system:kube-proxy');
const simKubelet = user('system:k8ts-sim-kubelet');

describe('bootstrap policy', () => {
  const auth = authorizer();
  const decide = async (a: Attributes) => (await auth.authorize(a)).decision;

  test('every object is labelled as a bootstrap default and typed', () => {
    const p = bootstrapPolicy();
    for (const o of [...p.clusterRoles, ...p.clusterRoleBindings, ...p.roles, ...p.roleBindings]) {
      expect(o.metadata?.labels?.['kubernetes.io/bootstrapping']).toBe('rbac-defaults');
      expect(o.apiVersion).toBe('rbac.authorization.k8s.io/v1');
    }
    expect(p.clusterRoles.map((r) => r.metadata?.name)).toEqual(
      expect.arrayContaining(['cluster-admin', 'system:kube-scheduler', 'system:kube-controller-manager', 'system:node-proxier', 'system:node', 'view', 'edit', 'admin', 'system:basic-user']),
    );
    // every binding refers to a role of the policy
    const names = new Set(p.clusterRoles.map((r) => r.metadata?.name));
    for (const b of p.clusterRoleBindings) expect(names.has(b.roleRef?.name)).toBe(true);
    // fresh objects each time
    p.clusterRoles[0].rules!.length = 0;
    expect(bootstrapPolicy().clusterRoles[0].rules!.length).toBeGreaterThan(0);
  });

  test('the scheduler can watch pods and nodes, bind pods, update pod status, record events', async () => {
    expect(await decide(attrs(scheduler, 'list', 'pods'))).toBe('allow');
    expect(await decide(attrs(scheduler, 'watch', 'nodes'))).toBe('allow');
    expect(await decide(attrs(scheduler, 'create', 'pods/binding', { namespace: 'default', name: 'web' }))).toBe('allow');
    expect(await decide(attrs(scheduler, 'update', 'pods/status', { namespace: 'default', name: 'web' }))).toBe('allow');
    expect(await decide(attrs(scheduler, 'create', 'events', { namespace: 'default' }))).toBe('allow');
    const lease = { apiGroup: 'coordination.k8s.io', namespace: 'kube-system', name: 'kube-scheduler' };
    for (const v of ['get', 'create', 'update'] as const) expect(await decide(attrs(scheduler, v, 'leases', lease))).toBe('allow');
  });

  test('the scheduler cannot delete nodes, nor touch leases outside kube-system, nor read secrets', async () => {
    expect(await auth.authorize(attrs(scheduler, 'delete', 'nodes', { name: 'n1' }))).toEqual({
      decision: 'deny',
      reason: 'User "system:kube-scheduler" cannot delete resource "nodes" in API group "" at the cluster scope',
    });
    expect(await decide(attrs(scheduler, 'update', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'default', name: 'x' }))).toBe('deny');
    expect(await decide(attrs(scheduler, 'get', 'secrets', { namespace: 'default', name: 's' }))).toBe('deny');
    expect(await decide(attrs(scheduler, 'update', 'pods', { namespace: 'default', name: 'web' }))).toBe('deny');
    expect(await decide(attrs(scheduler, 'delete', 'pods', { namespace: 'default', name: 'web' }))).toBe('deny');
  });

  test('the controller-manager runs its controllers but cannot create arbitrary objects', async () => {
    const apps = (resource: string, rest: Partial<Attributes> = {}) => ({ apiGroup: 'apps', namespace: 'default', ...rest, resource });
    expect(await decide(attrs(cm, 'create', 'replicasets', apps('replicasets')))).toBe('allow');
    expect(await decide(attrs(cm, 'update', 'deployments/status', apps('deployments', { name: 'web' })))).toBe('allow');
    expect(await decide(attrs(cm, 'create', 'pods', { namespace: 'default' }))).toBe('allow');
    expect(await decide(attrs(cm, 'create', 'endpoints', { namespace: 'default' }))).toBe('allow');
    expect(await decide(attrs(cm, 'update', 'nodes/status', { name: 'n1' }))).toBe('allow');
    expect(await decide(attrs(cm, 'create', 'serviceaccounts', { namespace: 'default' }))).toBe('allow');
    expect(await decide(attrs(cm, 'create', 'secrets', { namespace: 'default' }))).toBe('allow');
    expect(await decide(attrs(cm, 'deletecollection', 'configmaps', { namespace: 'gone' }))).toBe('allow');
    expect(await decide(attrs(cm, 'delete', 'namespaces', { name: 'gone' }))).toBe('allow');
    expect(await decide(attrs(cm, 'update', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'kube-system', name: 'kube-controller-manager' }))).toBe('allow');
    expect(await decide(attrs(cm, 'create', 'events', { namespace: 'default' }))).toBe('allow');
    const batch = (rest: Partial<Attributes> = {}) => ({ apiGroup: 'batch', namespace: 'default', name: 'pi', ...rest });
    for (const v of ['get', 'list', 'watch', 'update', 'delete'] as const) expect(await decide(attrs(cm, v, 'jobs', batch()))).toBe('allow');
    expect(await decide(attrs(cm, 'update', 'jobs/status', batch()))).toBe('allow');
    expect(await decide(attrs(cm, 'create', 'jobs', batch()))).toBe('deny');
    expect(await decide(attrs(cm, 'create', 'clusterrolebindings', { apiGroup: 'rbac.authorization.k8s.io' }))).toBe('deny');
    expect(await decide(attrs(cm, 'create', 'nodes'))).toBe('deny');
    expect(Object.keys(controllerRules())).toEqual(
      expect.arrayContaining(['replicaset', 'deployment', 'job', 'endpoints', 'nodelifecycle', 'namespace', 'serviceaccount', 'serviceaccounttoken', 'garbagecollector']),
    );
  });

  test('the proxy follows services, endpoints and nodes, and nothing more', async () => {
    for (const r of ['services', 'endpoints', 'nodes']) {
      expect(await decide(attrs(proxy, 'list', r))).toBe('allow');
      expect(await decide(attrs(proxy, 'watch', r))).toBe('allow');
      expect(await decide(attrs(proxy, 'update', r, { namespace: 'default', name: 'x' }))).toBe('deny');
    }
    expect(await decide(attrs(proxy, 'create', 'events', { namespace: 'default' }))).toBe('allow');
    expect(await decide(attrs(proxy, 'list', 'pods'))).toBe('deny');
  });

  test("the proxy's role is Kubernetes' system:node-proxier: it may get a node, not a service", async () => {
    expect(await decide(attrs(proxy, 'get', 'nodes', { name: 'n1' }))).toBe('allow');
    expect(await decide(attrs(proxy, 'get', 'services', { namespace: 'default', name: 'web' }))).toBe('deny');
    const p = bootstrapPolicy();
    const binding = p.clusterRoleBindings.find((b) => b.metadata?.name === 'system:node-proxier');
    expect(binding?.roleRef?.name).toBe('system:node-proxier');
    expect(binding?.subjects).toEqual([{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'system:kube-proxy' }]);
  });

  test('the simulated nodes\' kubelet runs any node, through RBAC alone, and may do nothing else', async () => {
    const lease = (rest: Partial<Attributes> = {}) => ({ apiGroup: 'coordination.k8s.io', namespace: 'kube-node-lease', name: 'sim-7', ...rest });
    for (const node of ['sim-1', 'sim-500']) {
      for (const v of ['get', 'create', 'update'] as const) expect(await decide(attrs(simKubelet, v, 'nodes', { name: node }))).toBe('allow');
      expect(await decide(attrs(simKubelet, 'update', 'nodes/status', { name: node }))).toBe('allow');
    }
    for (const v of ['list', 'watch'] as const) expect(await decide(attrs(simKubelet, v, 'pods'))).toBe('allow');
    expect(await decide(attrs(simKubelet, 'update', 'pods/status', { namespace: 'team', name: 'web-1' }))).toBe('allow');
    expect(await decide(attrs(simKubelet, 'delete', 'pods', { namespace: 'team', name: 'web-1' }))).toBe('allow');
    expect(await decide(attrs(simKubelet, 'get', 'secrets', { namespace: 'team', name: 'db' }))).toBe('allow');
    expect(await decide(attrs(simKubelet, 'create', 'events', { namespace: 'team' }))).toBe('allow');
    for (const v of ['get', 'create', 'update'] as const) expect(await decide(attrs(simKubelet, v, 'leases', lease()))).toBe('allow');

    expect(await decide(attrs(simKubelet, 'update', 'leases', lease({ namespace: 'kube-system', name: 'kube-scheduler' })))).toBe('deny');
    expect(await decide(attrs(simKubelet, 'delete', 'nodes', { name: 'sim-1' }))).toBe('deny');
    expect(await decide(attrs(simKubelet, 'create', 'pods', { namespace: 'team' }))).toBe('deny');
    expect(await decide(attrs(simKubelet, 'update', 'pods', { namespace: 'team', name: 'web-1' }))).toBe('deny');
    expect(await decide(attrs(simKubelet, 'list', 'secrets', { namespace: 'team' }))).toBe('deny');
    expect(await decide(attrs(simKubelet, 'create', 'clusterrolebindings', { apiGroup: 'rbac.authorization.k8s.io' }))).toBe('deny');
    expect(await decide(attrs(simKubelet, 'get', 'pods/log', { namespace: 'team', name: 'web-1' }))).toBe('deny');
  });

  test('system:masters holds cluster-admin; authenticated users get only basic-user', async () => {
    expect(await decide(attrs(user('admin', 'system:masters'), 'delete', 'nodes', { name: 'n1' }))).toBe('allow');
    const nobody = user('system:serviceaccount:default:builder', 'system:serviceaccounts');
    expect(await decide(attrs(nobody, 'list', 'pods', { namespace: 'default' }))).toBe('deny');
    expect(await decide(attrs(nobody, 'create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' }))).toBe('allow');
  });

  test('kubelets: RBAC gives reads only; writes come from the node authorizer', async () => {
    const p = bootstrapPolicy();
    const rbacOnly = new RbacAuthorizer(new FakeRbacSource(p.roles, p.clusterRoles, p.roleBindings, p.clusterRoleBindings));
    const kubelet = user('system:node:n1', 'system:nodes');
    expect(rbacOnly.authorize(attrs(kubelet, 'watch', 'pods')).decision).toBe('allow');
    expect(rbacOnly.authorize(attrs(kubelet, 'update', 'nodes/status', { name: 'n1' })).decision).toBe('noopinion');
    expect(rbacOnly.authorize(attrs(kubelet, 'get', 'secrets', { namespace: 'default', name: 's' })).decision).toBe('noopinion');
  });

  test('view < edit < admin, through aggregation', async () => {
    const p = bootstrapPolicy();
    const src = new FakeRbacSource(p.roles, p.clusterRoles, [], p.clusterRoleBindings);
    for (const r of ['view', 'edit', 'admin']) {
      src.roleBindingList.push({
        metadata: { namespace: 'team', name: r },
        roleRef: { kind: 'ClusterRole', name: r },
        subjects: [{ kind: 'User', name: `${r}-user` }],
      });
    }
    // a user-defined role that aggregates into view
    src.clusterRoleList.push({
      metadata: { name: 'leases-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ verbs: ['get'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] }],
    });
    const rbac = new RbacAuthorizer(src);
    const can = (who: string, verb: Attributes['verb'], resource: string, apiGroup = '') =>
      rbac.authorize(attrs(user(`${who}-user`), verb, resource, { apiGroup, namespace: 'team', name: 'x' })).decision === 'allow';
    expect([can('view', 'get', 'pods'), can('edit', 'get', 'pods'), can('admin', 'get', 'pods')]).toEqual([true, true, true]);
    expect([can('view', 'get', 'secrets'), can('edit', 'get', 'secrets'), can('admin', 'get', 'secrets')]).toEqual([false, true, true]);
    expect([can('view', 'delete', 'deployments', 'apps'), can('edit', 'delete', 'deployments', 'apps')]).toEqual([false, true]);
    expect([can('view', 'get', 'jobs', 'batch'), can('view', 'create', 'jobs', 'batch'), can('edit', 'create', 'jobs', 'batch'), can('admin', 'delete', 'jobs', 'batch')]).toEqual([
      true,
      false,
      true,
      true,
    ]);
    expect([can('edit', 'create', 'rolebindings', 'rbac.authorization.k8s.io'), can('admin', 'create', 'rolebindings', 'rbac.authorization.k8s.io')]).toEqual([false, true]);
    expect([can('view', 'get', 'leases', 'coordination.k8s.io'), can('admin', 'get', 'leases', 'coordination.k8s.io')]).toEqual([true, true]);
    // bound by a RoleBinding: nothing outside the namespace
    expect(rbac.authorize(attrs(user('admin-user'), 'get', 'pods', { namespace: 'other', name: 'x' })).decision).toBe('noopinion');
  });
});
