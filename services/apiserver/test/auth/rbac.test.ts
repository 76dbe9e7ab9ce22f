import { RbacAuthorizer } from '../../src/auth';
import {
  attrs,
  clusterRole,
  clusterRoleBinding,
  FakeRbacSource,
  role,
  roleBinding,
  user,
} from './fakes';

const builder = user('system:serviceaccount:default:builder', 'system:serviceaccounts', 'system:serviceaccounts:default');
const jane = user('jane', 'devs');
const bob = user('bob');

function fixture() {
  const src = new FakeRbacSource();
  src.roleList.push(
    role('default', 'pod-reader', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }]),
    role('default', 'one-configmap', [{ verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'] }]),
    role('default', 'log-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }]),
    role('other', 'pod-reader', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
  );
  src.clusterRoleList.push(
    clusterRole('deployer', [{ verbs: ['create', 'update', 'delete'], apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'] }]),
    clusterRole('node-reader', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['nodes'] }]),
    clusterRole('status-writer', [{ verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] }]),
    clusterRole('url-only', [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]),
  );
  src.roleBindingList.push(
    roleBinding('default', 'builder-reads-pods', { kind: 'Role', name: 'pod-reader' }, [{ kind: 'ServiceAccount', namespace: 'default', name: 'builder' }]),
    roleBinding('default', 'jane-config', { kind: 'Role', name: 'one-configmap' }, [{ kind: 'User', name: 'jane' }]),
    roleBinding('default', 'devs-deploy', { kind: 'ClusterRole', name: 'deployer' }, [{ kind: 'Group', name: 'devs' }]),
    roleBinding('default', 'sa-without-namespace', { kind: 'Role', name: 'log-reader' }, [{ kind: 'ServiceAccount', name: 'builder' }]),
    // a binding whose role is in another namespace does not reach it: Roles are looked up in the binding's namespace
    roleBinding('default', 'missing-role', { kind: 'Role', name: 'nonexistent' }, [{ kind: 'User', name: 'bob' }]),
  );
  src.clusterRoleBindingList.push(
    clusterRoleBinding('jane-nodes', 'node-reader', [{ kind: 'User', name: 'jane' }]),
    clusterRoleBinding('bob-status', 'status-writer', [{ kind: 'User', name: 'bob' }]),
    clusterRoleBinding('bob-urls', 'url-only', [{ kind: 'User', name: 'bob' }]),
  );
  return { src, rbac: new RbacAuthorizer(src) };
}

describe('RBAC authorizer', () => {
  const { rbac } = fixture();
  const ns = (namespace: string) => ({ namespace });

  test.each([
    // [description, attributes, allowed]
    ['Role via RoleBinding to a ServiceAccount subject', attrs(builder, 'list', 'pods', ns('default')), true],
    ['the same Role does not reach another namespace', attrs(builder, 'list', 'pods', ns('kube-system')), false],
    ['a verb the Role lacks', attrs(builder, 'delete', 'pods', { namespace: 'default', name: 'web' }), false],
    ['a list across all namespaces needs a cluster binding', attrs(builder, 'list', 'pods'), false],
    ['resourceNames: the named object', attrs(jane, 'update', 'configmaps', { namespace: 'default', name: 'app-config' }), true],
    ['resourceNames: another object', attrs(jane, 'update', 'configmaps', { namespace: 'default', name: 'other' }), false],
    ['resourceNames: a list names no object', attrs(jane, 'get', 'configmaps', ns('default')), false],
    ['RoleBinding to a ClusterRole, through a Group, in its namespace', attrs(jane, 'create', 'deployments', { namespace: 'default', apiGroup: 'apps' }), true],
    ['RoleBinding to a ClusterRole is namespace-scoped', attrs(jane, 'create', 'deployments', { namespace: 'prod', apiGroup: 'apps' }), false],
    ['API group must match', attrs(jane, 'create', 'deployments', { namespace: 'default', apiGroup: '' }), false],
    ['a listed subresource', attrs(jane, 'update', 'deployments/scale', { namespace: 'default', apiGroup: 'apps', name: 'web' }), true],
    ['a resource rule does not cover its subresources', attrs(builder, 'get', 'pods/log', { namespace: 'default', name: 'web' }), false],
    ['ClusterRoleBinding reaches cluster-scoped resources', attrs(jane, 'get', 'nodes', { name: 'n1' }), true],
    ['ClusterRoleBinding reaches every namespace', attrs(jane, 'list', 'nodes', ns('anything')), true],
    ['*/status matches the status of any resource', attrs(bob, 'update', 'pods/status', { namespace: 'x', name: 'p' }), true],
    ['*/status does not match the resource', attrs(bob, 'update', 'pods', { namespace: 'x', name: 'p' }), false],
    ['*/status does not match another subresource', attrs(bob, 'update', 'deployments/scale', { apiGroup: 'apps', namespace: 'x' }), false],
    ['a binding to a missing Role grants nothing', attrs(bob, 'get', 'pods/log', ns('default')), false],
    ['a ServiceAccount subject without namespace matches nobody', attrs(builder, 'get', 'pods/log', { namespace: 'default', name: 'web' }), false],
    ['a user with the same name in another namespace is another account',
      attrs(user('system:serviceaccount:other:builder'), 'list', 'pods', ns('default')), false],
    ['nonResourceURLs rules grant no resource', attrs(bob, 'get', 'healthz'), false],
    ['a user with no binding', attrs(user('nobody'), 'get', 'pods', ns('default')), false],
  ])('%s', (_d, a, allowed) => {
    expect(rbac.authorize(a).decision).toBe(allowed ? 'allow' : 'noopinion');
  });

  test('wildcards: verbs, groups and resources', () => {
    const src = new FakeRbacSource([], [clusterRole('all', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }])], [], [
      clusterRoleBinding('root', 'all', [{ kind: 'Group', name: 'root' }]),
    ]);
    const r = new RbacAuthorizer(src);
    const root = user('x', 'root');
    expect(r.authorize(attrs(root, 'deletecollection', 'leases', { apiGroup: 'coordination.k8s.io', namespace: 'a' })).decision).toBe('allow');
    expect(r.authorize(attrs(root, 'create', 'pods/binding', { namespace: 'a', name: 'p' })).decision).toBe('allow');
    expect(r.authorize(attrs(root, 'delete', 'nodes', { name: 'n1' })).decision).toBe('allow');
  });

  test('the allow reason names the binding, role and subject', () => {
    expect(rbac.authorize(attrs(builder, 'get', 'pods', { namespace: 'default', name: 'web' })).reason).toBe(
      'RBAC: allowed by RoleBinding "default/builder-reads-pods" of Role "default/pod-reader" to ServiceAccount "default/builder"',
    );
    expect(rbac.authorize(attrs(jane, 'get', 'nodes', { name: 'n1' })).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "jane-nodes" of ClusterRole "node-reader" to User "jane"',
    );
  });

  test('system:masters is allowed everything, with no binding at all', () => {
    const empty = new RbacAuthorizer(new FakeRbacSource());
    const d = empty.authorize(attrs(user('root', 'system:masters'), 'delete', 'nodes', { name: 'n1' }));
    expect(d).toEqual({ decision: 'allow', reason: 'RBAC: allowed: member of group "system:masters"' });
  });

  test('deny messages in Kubernetes form: user, verb, resource, group, scope', () => {
    expect(rbac.authorize(attrs(builder, 'list', 'pods', ns('kube-system'))).reason).toBe(
      'User "system:serviceaccount:default:builder" cannot list resource "pods" in API group "" in the namespace "kube-system"',
    );
    expect(rbac.authorize(attrs(builder, 'get', 'pods/log', { namespace: 'default', name: 'web' })).reason).toBe(
      'User "system:serviceaccount:default:builder" cannot get resource "pods/log" in API group "" in the namespace "default"',
    );
    expect(rbac.authorize(attrs(jane, 'delete', 'nodes', { name: 'n1' })).reason).toBe(
      'User "jane" cannot delete resource "nodes" in API group "" at the cluster scope',
    );
    expect(rbac.authorize(attrs(jane, 'create', 'deployments', { namespace: 'prod', apiGroup: 'apps' })).reason).toBe(
      'User "jane" cannot create resource "deployments" in API group "apps" in the namespace "prod"',
    );
  });

  test('aggregated ClusterRoles gain the rules of the roles their selectors pick', () => {
    const src = new FakeRbacSource(
      [],
      [
        clusterRole('monitoring', [], {
          aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate-to-monitoring': 'true' } }] },
        }),
        clusterRole('pods-read', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], {
          metadata: { labels: { 'example.com/aggregate-to-monitoring': 'true' } },
        }),
        clusterRole('nodes-read', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }], {
          metadata: { labels: { 'example.com/aggregate-to-monitoring': 'false' } },
        }),
      ],
      [],
      [clusterRoleBinding('mon', 'monitoring', [{ kind: 'User', name: 'prom' }])],
    );
    const r = new RbacAuthorizer(src);
    expect(r.authorize(attrs(user('prom'), 'get', 'pods', { namespace: 'a', name: 'p' })).decision).toBe('allow');
    expect(r.authorize(attrs(user('prom'), 'get', 'nodes', { name: 'n' })).decision).toBe('noopinion');
  });

  test('aggregation selectors: expressions, {} selects every other ClusterRole, an invalid one none', () => {
    const aggregator = (selector: object) =>
      new RbacAuthorizer(
        new FakeRbacSource(
          [],
          [
            clusterRole('monitoring', [], { aggregationRule: { clusterRoleSelectors: [selector] } }),
            clusterRole('pods-read', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], { metadata: { labels: { tier: 'a' } } }),
            clusterRole('nodes-read', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }]),
          ],
          [],
          [clusterRoleBinding('mon', 'monitoring', [{ kind: 'User', name: 'prom' }])],
        ),
      );
    const granted = (selector: object) =>
      ['pods', 'nodes'].filter((resource) => aggregator(selector).authorize(attrs(user('prom'), 'get', resource, { name: 'x' })).decision === 'allow');
    expect(granted({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] })).toEqual(['pods']);
    expect(granted({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] })).toEqual(['nodes']);
    expect(granted({})).toEqual(['pods', 'nodes']);
    expect(granted({ matchExpressions: [{ key: 'tier', operator: 'Near', values: ['a'] }] })).toEqual([]);
  });

  test('rulesFor lists what a user holds at a scope', () => {
    expect(rbac.rulesFor(builder, 'default')).toEqual([{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }]);
    expect(rbac.rulesFor(builder)).toEqual([]);
    expect(rbac.rulesFor(jane, 'default').map((r) => r.resources)).toEqual([['nodes'], ['configmaps'], ['deployments', 'deployments/scale']]);
  });
});
