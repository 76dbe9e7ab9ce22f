// The pieces of src/auth the reviews and the HTTP API rely on: non-resource requests in RBAC,
// Kubernetes' wording of their refusal, the chain's Kubernetes-style evaluation, rule
// resolution with missing roles, and the default non-resource roles.
import {
  type Attributes,
  NodeAuthorizer,
  RbacAuthorizer,
  UnionAuthorizer,
  bootstrapPolicy,
  forbiddenMessage,
  nonResourceURLMatches,
} from '../src/auth';
import { FakeNodeGraph, FakeRbacSource, clusterRole, clusterRoleBinding, role, roleBinding, user } from './auth/fakes';

const get = (path: string, who = user('jane')): Attributes => ({ user: who, verb: 'get', apiGroup: '', resource: '', nonResourcePath: path });

describe('non-resource requests', () => {
  test.each([
    [['*'], '/anything/at/all', true],
    [['/healthz'], '/healthz', true],
    [['/healthz'], '/healthz/etcd', false],
    [['/apis/*'], '/apis/apps/v1', true],
    [['/apis/*'], '/apis', false],
    [['/apis*'], '/apis', true],
    [['/version/'], '/version', false],
  ])('nonResourceURLs %j cover %s: %s', (urls, path, expected) => {
    expect(nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: urls }, path)).toBe(expected);
  });

  test('RBAC grants them through ClusterRoleBindings only, by verb, and never through resource rules', () => {
    const src = new FakeRbacSource(
      [role('dev', 'urls', [{ verbs: ['get'], nonResourceURLs: ['/logs'] }])],
      [clusterRole('health', [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]), clusterRole('everything', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }])],
      [roleBinding('dev', 'jane-urls', { kind: 'Role', name: 'urls' }, [{ kind: 'User', name: 'jane' }])],
      [clusterRoleBinding('jane-health', 'health', [{ kind: 'User', name: 'jane' }]), clusterRoleBinding('bob-all', 'everything', [{ kind: 'User', name: 'bob' }])],
    );
    const rbac = new RbacAuthorizer(src);
    expect(rbac.authorize(get('/healthz')).decision).toBe('allow');
    expect(rbac.authorize({ ...get('/healthz'), verb: 'post' }).decision).toBe('noopinion');
    expect(rbac.authorize({ ...get('/logs'), namespace: 'dev' }).decision).toBe('noopinion');
    expect(rbac.authorize(get('/healthz', user('bob'))).decision).toBe('noopinion');
  });

  test("a refusal reads as Kubernetes': User cannot VERB path", async () => {
    const chain = new UnionAuthorizer([new NodeAuthorizer(new FakeNodeGraph()), new RbacAuthorizer(new FakeRbacSource())]);
    expect(forbiddenMessage(get('/metrics'))).toBe('User "jane" cannot get path "/metrics"');
    expect(await chain.authorize(get('/metrics', user('system:node:n1', 'system:nodes')))).toEqual({
      decision: 'deny',
      reason: 'User "system:node:n1" cannot get path "/metrics"',
    });
  });
});

describe('missing roles', () => {
  const src = new FakeRbacSource(
    [],
    [clusterRole('reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])],
    [roleBinding('dev', 'to-missing-role', { kind: 'Role', name: 'ghost' }, [{ kind: 'User', name: 'ann' }])],
    [clusterRoleBinding('to-missing', 'gone', [{ kind: 'User', name: 'ann' }]), clusterRoleBinding('ann-reads', 'reader', [{ kind: 'User', name: 'ann' }])],
  );
  const rbac = new RbacAuthorizer(src);
  const ann = user('ann');

  test('are named in the refusal, after the forbidden message, and in the chain evaluation alone', async () => {
    const a: Attributes = { user: ann, verb: 'delete', apiGroup: '', resource: 'pods', namespace: 'dev', name: 'web' };
    const both = '[clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "ghost" not found]';
    expect(rbac.authorize(a).reason).toBe(`${forbiddenMessage(a)}: RBAC: ${both}`);
    const chain = new UnionAuthorizer([rbac]);
    expect(await chain.evaluate(a)).toEqual({ decision: 'noopinion', reason: `RBAC: ${both}`, evaluationError: '' });
    // an allow still wins over a dangling binding
    expect((await chain.evaluate({ ...a, verb: 'get' })).decision).toBe('allow');
  });

  test('are errors of the rule resolution, the other rules still listed', () => {
    const r = rbac.resolveRules(ann, 'dev');
    expect(r.errors).toEqual(['clusterrole.rbac.authorization.k8s.io "gone" not found', 'role.rbac.authorization.k8s.io "ghost" not found']);
    expect(r.resourceRules).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
    expect(r.incomplete).toBe(false);
  });
});

describe('the default non-resource roles', () => {
  const policy = bootstrapPolicy();
  const rbac = new RbacAuthorizer(new FakeRbacSource(policy.roles, policy.clusterRoles, policy.roleBindings, policy.clusterRoleBindings));

  test.each([
    ['an authenticated user', user('jane'), ['/api', '/api/v1', '/apis', '/apis/apps/v1', '/openapi/v3', '/openapi/v2', '/version', '/healthz', '/livez', '/readyz'], ['/metrics', '/readyz/etcd', '/logs']],
    ['an anonymous caller', { name: 'system:anonymous', groups: ['system:unauthenticated'] }, ['/version', '/healthz', '/livez', '/readyz'], ['/api', '/apis', '/openapi/v3']],
    ['a monitoring agent', user('prom', 'system:monitoring'), ['/metrics', '/metrics/slis', '/livez/ping', '/healthz/etcd'], ['/logs']],
  ])('%s', (_who, u, allowed, refused) => {
    for (const p of allowed) expect([p, rbac.authorize(get(p, u)).decision]).toEqual([p, 'allow']);
    for (const p of refused) expect([p, rbac.authorize(get(p, u)).decision]).toEqual([p, 'noopinion']);
  });

  test('namespace admins may ask who may act there (LocalSubjectAccessReview)', () => {
    const admin = policy.clusterRoles.find((r) => r.metadata?.name === 'admin')!;
    expect(admin.rules).toContainEqual({ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'] });
  });
});
