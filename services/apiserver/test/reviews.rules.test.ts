// SelfSubjectRulesReview (kubectl auth can-i --list): the caller's rules in a namespace.
import { AlwaysAllowAuthorizer, type Authorizer } from '../src/auth';
import { admin, broken, failure, jane, node1, post, world } from './reviews.fixture';

const SSRR = 'selfsubjectrulesreviews';
const body = (namespace?: string) => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SelfSubjectRulesReview',
  metadata: { creationTimestamp: null },
  spec: namespace === undefined ? {} : { namespace },
});

type Status = {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
};

describe('SelfSubjectRulesReview', () => {
  const w = world();

  test('cluster-wide and namespace rules, resource and non-resource ones apart; spec comes back empty', async () => {
    const out = await post(w, SSRR, body('dev'));
    expect(out).toMatchObject({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: {}, spec: {} });
    const status = out.status as Status;
    expect(status.incomplete).toBe(false);
    expect(status.evaluationError).toBeUndefined();
    // system:basic-user, devs-read-nodes (cluster-wide), and view through the RoleBinding in dev
    expect(status.resourceRules).toContainEqual({ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] });
    expect(status.resourceRules).toContainEqual({ verbs: ['get', 'list'], apiGroups: [''], resources: ['nodes'] });
    expect(status.resourceRules.some((r) => r.resources?.includes('pods') && r.verbs.includes('list'))).toBe(true);
    // system:discovery and system:public-info-viewer
    const urls = status.nonResourceRules.flatMap((r) => r.nonResourceURLs ?? []);
    expect(urls).toEqual(expect.arrayContaining(['/api', '/apis/*', '/healthz', '/version', '/openapi/*']));
    expect(status.nonResourceRules.every((r) => r.verbs.join() === 'get')).toBe(true);
    expect(status.resourceRules.every((r) => !('nonResourceURLs' in r))).toBe(true);
  });

  test('another namespace does not show the RoleBinding of dev', async () => {
    const status = (await post(w, SSRR, body('prod'))).status as Status;
    expect(status.resourceRules.some((r) => r.resources?.includes('pods'))).toBe(false);
    expect(status.resourceRules).toContainEqual({ verbs: ['get', 'list'], apiGroups: [''], resources: ['nodes'] });
  });

  test('system:masters sees what cluster-admin grants, everything', async () => {
    const status = (await post(w, SSRR, body('default'), admin)).status as Status;
    expect(status.resourceRules).toContainEqual({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    expect(status.nonResourceRules).toContainEqual({ verbs: ['*'], nonResourceURLs: ['*'] });
  });

  test('a node cannot list its permissions: incomplete, with the Node authorizer error', async () => {
    const status = (await post(w, SSRR, body('dev'), node1)).status as Status;
    expect(status.incomplete).toBe(true);
    expect(status.evaluationError).toBe('node authorizer does not support user rule resolution');
    expect(status.resourceRules.some((r) => r.resources?.includes('nodes'))).toBe(true);
  });

  test('a binding to a missing role is an evaluation error, not a failure', async () => {
    const status = (await post(w, SSRR, body('dev'), broken)).status as Status;
    expect(status).toMatchObject({ incomplete: false, evaluationError: 'clusterrole.rbac.authorization.k8s.io "gone" not found' });
  });

  test('no namespace is a BadRequest', async () => {
    expect(await failure(post(w, SSRR, body()))).toMatchObject({ httpCode: 400, message: 'no namespace on request' });
    expect(await failure(post(w, SSRR, body(''), jane))).toMatchObject({ httpCode: 400 });
  });

  test('AlwaysAllow lists everything; an authorizer that cannot list makes the answer incomplete', async () => {
    const all = await post({ ...w, security: { ...w.security, authorizer: new AlwaysAllowAuthorizer() } }, SSRR, body('dev'));
    expect(all.status).toEqual({
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    });
    const opaque: Authorizer = { authorize: () => ({ decision: 'allow', reason: '' }) };
    const some = await post({ ...w, security: { ...w.security, authorizer: opaque } }, SSRR, body('dev'));
    expect(some.status).toEqual({ resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'authorizer does not support user rule resolution' });
  });
});
