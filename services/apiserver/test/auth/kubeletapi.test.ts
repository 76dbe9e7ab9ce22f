// The bootstrap policy's side of the kubelet API's delegated authorization: the apiserver's
// kubelet client (kube-apiserver-kubelet-client) may use every kubelet API (nodes/proxy,
// nodes/log, ...) and nothing else; kubelets, the simulated nodes' kubelet and the proxy may
// ask TokenReviews and SubjectAccessReviews about their callers; an ordinary user may not
// reach the kubelet API.
import { NodeAuthorizer, RbacAuthorizer, UnionAuthorizer, USER_KUBE_APISERVER_KUBELET_CLIENT, USER_KUBE_PROXY, bootstrapPolicy } from '../../src/auth';
import type { Attributes } from '../../src/auth';
import { FakeNodeGraph, FakeRbacSource, attrs, user } from './fakes';

function authorizer() {
  const p = bootstrapPolicy();
  const rbac = new RbacAuthorizer(new FakeRbacSource(p.roles, p.clusterRoles, p.roleBindings, p.clusterRoleBindings));
  return new UnionAuthorizer([new NodeAuthorizer(new FakeNodeGraph()), rbac]);
}

const auth = authorizer();
const decide = async (a: Attributes) => (await auth.authorize(a)).decision;
const apiserver = user(USER_KUBE_APISERVER_KUBELET_CLIENT);

test('the apiserver kubelet client uses every kubelet API of every node', async () => {
  for (const sub of ['nodes/proxy', 'nodes/log', 'nodes/stats', 'nodes/metrics', 'nodes/spec']) {
    for (const verb of ['get', 'create'] as const) expect(await decide(attrs(apiserver, verb, sub, { name: 'node-7' }))).toBe('allow');
  }
  expect(await decide(attrs(apiserver, 'get', 'nodes', { name: 'node-7' }))).toBe('allow');
});

test('and nothing else', async () => {
  expect(await decide(attrs(apiserver, 'get', 'secrets', { namespace: 'default', name: 's' }))).toBe('deny');
  expect(await decide(attrs(apiserver, 'update', 'nodes', { name: 'node-7' }))).toBe('deny');
  expect(await decide(attrs(apiserver, 'get', 'pods/log', { namespace: 'default', name: 'p' }))).toBe('deny');
});

test('kubelets, the simulated nodes’ kubelet and the proxy may review their callers', async () => {
  const p = bootstrapPolicy();
  const simUser = p.clusterRoleBindings.find((b) => b.roleRef?.name === 'system:k8ts:sim-kubelet')?.subjects?.[0]?.name ?? '';
  expect(simUser).not.toBe('');
  for (const who of [user('system:node:n1', 'system:nodes'), user(USER_KUBE_PROXY), user(simUser)]) {
    expect(await decide(attrs(who, 'create', 'tokenreviews', { apiGroup: 'authentication.k8s.io' }))).toBe('allow');
    expect(await decide(attrs(who, 'create', 'subjectaccessreviews', { apiGroup: 'authorization.k8s.io' }))).toBe('allow');
  }
});

test('an ordinary user reaches no kubelet API and cannot review', async () => {
  const jane = user('jane', 'system:authenticated');
  expect(await decide(attrs(jane, 'get', 'nodes/proxy', { name: 'n1' }))).toBe('deny');
  expect(await decide(attrs(jane, 'create', 'tokenreviews', { apiGroup: 'authentication.k8s.io' }))).toBe('deny');
  // a kubelet may not use another kubelet's API either
  expect(await decide(attrs(user('system:node:n1', 'system:nodes'), 'get', 'nodes/proxy', { name: 'n2' }))).toBe('deny');
});
