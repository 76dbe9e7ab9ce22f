// SelfSubjectAccessReview, SubjectAccessReview and LocalSubjectAccessReview: answers and
// validation as kube-apiserver gives them to kubectl.
import type { Authorizer } from '../src/auth';
import { REVIEW_RESOURCES, reviewResource } from '../src/reviews';
import { anonymous, broken, failure, jane, node1, post, world } from './reviews.fixture';

const SSAR = 'selfsubjectaccessreviews';
const SAR = 'subjectaccessreviews';
const LSAR = 'localsubjectaccessreviews';
const V1 = 'authorization.k8s.io/v1';

const canI = (resourceAttributes: Record<string, unknown>) => ({ apiVersion: V1, kind: 'SelfSubjectAccessReview', metadata: { creationTimestamp: null }, spec: { resourceAttributes } });
const canIPath = (verb: string, path: string) => ({ apiVersion: V1, kind: 'SelfSubjectAccessReview', spec: { nonResourceAttributes: { verb, path } } });

describe('the table of review resources', () => {
  test('lists the six reviews with their scope, for the router and discovery', () => {
    const rows = REVIEW_RESOURCES.map((r) => `${r.group}/${r.version} ${r.resource} ${r.kind} ${r.namespaced ? 'namespaced' : 'cluster'} ${r.singularName}`);
    expect(rows.sort()).toEqual([
      'authentication.k8s.io/v1 selfsubjectreviews SelfSubjectReview cluster selfsubjectreview',
      'authentication.k8s.io/v1 tokenreviews TokenReview cluster tokenreview',
      'authorization.k8s.io/v1 localsubjectaccessreviews LocalSubjectAccessReview namespaced localsubjectaccessreview',
      'authorization.k8s.io/v1 selfsubjectaccessreviews SelfSubjectAccessReview cluster selfsubjectaccessreview',
      'authorization.k8s.io/v1 selfsubjectrulesreviews SelfSubjectRulesReview cluster selfsubjectrulesreview',
      'authorization.k8s.io/v1 subjectaccessreviews SubjectAccessReview cluster subjectaccessreview',
    ]);
    expect(REVIEW_RESOURCES.every((r) => r.verbs.join() === 'create')).toBe(true);
    expect(reviewResource('authorization.k8s.io', 'v1', SAR)?.kind).toBe('SubjectAccessReview');
    expect(reviewResource('authorization.k8s.io', 'v1beta1', SAR)).toBeUndefined();
  });
});

describe('SelfSubjectAccessReview (kubectl auth can-i)', () => {
  const w = world();

  test('allowed through a RoleBinding: the spec comes back without empty fields, the reason names the binding', async () => {
    const out = await post(w, SSAR, canI({ namespace: 'dev', verb: 'list', group: '', resource: 'pods', name: '' }));
    expect(out).toEqual({
      apiVersion: V1,
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'dev', verb: 'list', resource: 'pods' } },
      status: { allowed: true, reason: 'RBAC: allowed by RoleBinding "dev/jane-views" of ClusterRole "view" to User "jane"' },
    });
  });

  test('not allowed: just allowed false, as kubectl prints a bare "no"', async () => {
    const out = await post(w, SSAR, canI({ namespace: 'dev', verb: 'delete', resource: 'pods', name: 'web' }));
    expect(out.status).toEqual({ allowed: false });
    expect((await post(w, SSAR, canI({ namespace: 'prod', verb: 'list', resource: 'pods' }))).status).toEqual({ allowed: false });
  });

  test('every authenticated user may create the self reviews (system:basic-user)', async () => {
    for (const resource of ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']) {
      const out = await post(w, SSAR, canI({ verb: 'create', group: 'authorization.k8s.io', resource }));
      expect(out.status).toMatchObject({ allowed: true });
    }
    const whoami = await post(w, SSAR, canI({ verb: 'create', group: 'authentication.k8s.io', resource: 'selfsubjectreviews' }));
    expect(whoami.status).toMatchObject({ allowed: true });
    expect((await post(w, SSAR, canI({ verb: 'create', group: 'authentication.k8s.io', resource: 'tokenreviews' }))).status).toEqual({ allowed: false });
  });

  test.each([
    ['/healthz', true],
    ['/version', true],
    ['/api', true],
    ['/apis', true],
    ['/apis/apps/v1', true],
    ['/openapi/v3', true],
    ['/metrics', false],
    ['/healthz/etcd', false],
    ['/logs', false],
  ])('non-resource URL %s for an authenticated user: %s', async (path, allowed) => {
    expect((await post(w, SSAR, canIPath('get', path))).status).toMatchObject({ allowed });
  });

  test('non-resource URLs: the verb counts, anonymous callers see only the public info', async () => {
    expect((await post(w, SSAR, canIPath('post', '/apis'))).status).toEqual({ allowed: false });
    expect((await post(w, SSAR, canIPath('get', '/version'), anonymous)).status).toMatchObject({ allowed: true });
    expect((await post(w, SSAR, canIPath('get', '/apis'), anonymous)).status).toEqual({ allowed: false });
    const monitor = { name: 'prometheus', groups: ['system:monitoring', 'system:authenticated'] };
    expect((await post(w, SSAR, canIPath('get', '/metrics'), monitor)).status).toMatchObject({ allowed: true });
    expect((await post(w, SSAR, canIPath('get', '/readyz/etcd'), monitor)).status).toMatchObject({ allowed: true });
  });

  test('an outright refusal by the Node authorizer is "denied", with its reason alone', async () => {
    const out = await post(w, SSAR, canI({ verb: 'update', resource: 'nodes', subresource: 'status', name: 'n2' }), node1);
    expect(out.status).toEqual({ allowed: false, denied: true, reason: expect.stringMatching(/^node 'n1' cannot update the status of node 'n2'/) });
  });

  test('a binding to a missing role: the reason says so, as RBAC does', async () => {
    const out = await post(w, SSAR, canI({ verb: 'get', resource: 'nodes' }), broken);
    expect(out.status).toEqual({ allowed: false, reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found' });
  });

  test('an authorizer that fails: evaluationError, and the next authorizer still decides', async () => {
    const failing: Authorizer = {
      authorize: () => {
        throw new Error('cache not synced');
      },
    };
    const ok: Authorizer = { authorize: () => ({ decision: 'noopinion', reason: 'not mine' }) };
    const { UnionAuthorizer } = await import('../src/auth');
    const security = { ...w.security, authorizer: new UnionAuthorizer([failing, ok]) };
    const sar = REVIEW_RESOURCES.find((r) => r.resource === SSAR)!;
    const out = await sar.create({ security, user: jane, body: canI({ verb: 'get', resource: 'pods' }) });
    expect(out.status).toEqual({ allowed: false, reason: 'not mine', evaluationError: 'cache not synced' });
  });

  test('validation: exactly one of resourceAttributes and nonResourceAttributes, metadata empty', async () => {
    const neither = await failure(post(w, SSAR, { apiVersion: V1, kind: 'SelfSubjectAccessReview', spec: {} }));
    expect(neither).toMatchObject({
      httpCode: 422,
      reason: 'Invalid',
      message: '.authorization.k8s.io "" is invalid: spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    });
    expect(neither.causes.map((c) => c.field)).toEqual(['spec']);
    const both = await failure(post(w, SSAR, { spec: { resourceAttributes: { verb: 'get' }, nonResourceAttributes: { verb: 'get', path: '/x' } } }));
    expect(both.message).toBe(
      '.authorization.k8s.io "" is invalid: spec: Invalid value: {"path":"/x","verb":"get"}: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
    const named = await failure(post(w, SSAR, { metadata: { name: 'mine' }, spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } }));
    expect(named.message).toBe('.authorization.k8s.io "" is invalid: metadata: Invalid value: {"name":"mine"}: must be empty');
  });

  test('bad JSON types and a wrong apiVersion are BadRequest, naming the field', async () => {
    const typed = await failure(post(w, SSAR, { spec: { resourceAttributes: { verb: 5 } } }));
    expect(typed).toMatchObject({ httpCode: 400, reason: 'BadRequest' });
    expect(typed.message).toContain('Go struct field SelfSubjectAccessReview.spec.resourceAttributes.verb of type string');
    expect(typed.message).toContain('cannot unmarshal number');
    const version = await failure(post(w, SSAR, { apiVersion: 'authorization.k8s.io/v1beta1', spec: {} }));
    expect(version.message).toBe('the API version in the data (authorization.k8s.io/v1beta1) does not match the expected API version (authorization.k8s.io/v1)');
    expect((await failure(post(w, SSAR, 'not an object'))).httpCode).toBe(400);
  });

  test('selectors: validated, echoed, and noted in evaluationError when partly unusable', async () => {
    const invalid = await failure(post(w, SSAR, canI({ verb: 'list', resource: 'pods', labelSelector: { rawSelector: 'a=b', requirements: [{ key: 'a', operator: 'In', values: ['b'] }] } })));
    expect(invalid.message).toBe(
      '.authorization.k8s.io "" is invalid: spec.resourceAttributes.labelSelector.rawSelector: Invalid value: "a=b": may not specified at the same time as requirements',
    );
    const empty = await failure(post(w, SSAR, canI({ verb: 'list', resource: 'pods', fieldSelector: {} })));
    expect(empty.message).toContain(
      'spec.resourceAttributes.fieldSelector.requirements: Required value: when spec.resourceAttributes.fieldSelector is specified, requirements or rawSelector is required',
    );
    const partly = await post(
      w,
      SSAR,
      canI({
        namespace: 'dev',
        verb: 'list',
        resource: 'pods',
        labelSelector: {
          requirements: [
            { key: 'app', operator: 'In', values: ['web'] },
            { key: 'tier', operator: 'Near', values: ['x'] },
          ],
        },
        fieldSelector: { rawSelector: 'spec.nodeName' },
      }),
    );
    expect(partly.status).toEqual({
      allowed: true,
      reason: expect.any(String),
      evaluationError: 'spec.resourceAttributes.fieldSelector ignored due to parse error; spec.resourceAttributes.labelSelector partially ignored due to parse error',
    });
    expect((partly.spec as { resourceAttributes: Record<string, unknown> }).resourceAttributes.fieldSelector).toEqual({ rawSelector: 'spec.nodeName' });
  });
});

describe('SubjectAccessReview', () => {
  const w = world();
  const sar = (spec: Record<string, unknown>) => ({ apiVersion: V1, kind: 'SubjectAccessReview', spec });

  test('asks for exactly the user and groups of spec: no group is added', async () => {
    const asJane = await post(w, SAR, sar({ user: 'jane', resourceAttributes: { verb: 'get', resource: 'nodes' } }));
    expect(asJane.status).toEqual({ allowed: false });
    const withGroup = await post(w, SAR, sar({ user: 'jane', groups: ['devs'], resourceAttributes: { verb: 'get', resource: 'nodes' } }));
    expect(withGroup.status).toEqual({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "devs-read-nodes" of ClusterRole "node-reader" to Group "devs"' });
    const health = await post(w, SAR, sar({ user: 'jane', nonResourceAttributes: { verb: 'get', path: '/healthz' } }));
    expect(health.status).toEqual({ allowed: false });
    const authenticated = await post(w, SAR, sar({ user: 'jane', groups: ['system:authenticated'], nonResourceAttributes: { verb: 'get', path: '/healthz' } }));
    expect(authenticated.status).toMatchObject({ allowed: true });
  });

  test('echoes the subject: user, groups, extra, uid', async () => {
    const out = await post(w, SAR, sar({ user: 'jane', groups: ['devs'], uid: 'u-1', extra: { scopes: ['a', 'b'] }, resourceAttributes: { verb: 'get', resource: 'nodes' } }));
    expect(out.spec).toEqual({ resourceAttributes: { verb: 'get', resource: 'nodes' }, user: 'jane', groups: ['devs'], uid: 'u-1', extra: { scopes: ['a', 'b'] } });
  });

  test('validation: a user or groups, exactly one kind of attributes; every problem in one Invalid', async () => {
    const e = await failure(post(w, SAR, sar({})));
    expect(e.message).toBe(
      '.authorization.k8s.io "" is invalid: [spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified, spec.user: Invalid value: "": at least one of user or group must be specified]',
    );
    expect(e.causes.map((c) => c.field)).toEqual(['spec', 'spec.user']);
    const groupsOnly = await post(w, SAR, sar({ groups: ['system:masters'], resourceAttributes: { verb: 'delete', resource: 'nodes' } }));
    expect(groupsOnly.status).toMatchObject({ allowed: true });
  });
});

describe('LocalSubjectAccessReview', () => {
  const w = world();
  const lsar = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({ apiVersion: V1, kind: 'LocalSubjectAccessReview', metadata, spec });

  test('in the URL namespace: the object takes it, the answer is for that namespace', async () => {
    const out = await post(w, LSAR, lsar({ user: 'jane', resourceAttributes: { namespace: 'dev', verb: 'list', resource: 'pods' } }), jane, 'dev');
    expect(out).toMatchObject({ kind: 'LocalSubjectAccessReview', metadata: { namespace: 'dev' }, status: { allowed: true } });
  });

  test('spec.resourceAttributes.namespace must match, nonResourceAttributes are refused', async () => {
    const other = await failure(post(w, LSAR, lsar({ user: 'jane', resourceAttributes: { namespace: 'prod', verb: 'list', resource: 'pods' } }), jane, 'dev'));
    expect(other.message).toBe('.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "prod": must match metadata.namespace');
    const urls = await failure(post(w, LSAR, lsar({ user: 'jane', nonResourceAttributes: { verb: 'get', path: '/healthz' } }), jane, 'dev'));
    expect(urls.message).toBe(
      '.authorization.k8s.io "" is invalid: spec.nonResourceAttributes: Invalid value: {"path":"/healthz","verb":"get"}: disallowed on this kind of request',
    );
    const named = await failure(post(w, LSAR, lsar({ user: 'jane', resourceAttributes: { namespace: 'dev' } }, { name: 'x' }), jane, 'dev'));
    expect(named.message).toBe('.authorization.k8s.io "" is invalid: metadata: Invalid value: {"name":"x","namespace":"dev"}: must be empty except for namespace');
  });

  test('the body namespace must agree with the URL, and there must be one', async () => {
    const body = lsar({ user: 'jane', resourceAttributes: { namespace: 'prod', verb: 'get', resource: 'pods' } }, { namespace: 'prod' });
    expect(await failure(post(w, LSAR, body, jane, 'dev'))).toMatchObject({
      httpCode: 400,
      message: 'the namespace of the provided object does not match the namespace sent on the request',
    });
    const noNamespace = await failure(post(w, LSAR, lsar({ user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods' } })));
    expect(noNamespace).toMatchObject({ httpCode: 400, message: 'namespace is required on this type: ' });
  });
});
