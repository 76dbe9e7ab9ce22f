import { type Authorizer, denyMessage, forbiddenMessage, UnionAuthorizer } from '../../src/auth';
import { attrs, user } from './fakes';

const fixed = (decision: 'allow' | 'deny' | 'noopinion', reason = ''): Authorizer & { calls: number } => {
  const a = {
    calls: 0,
    authorize() {
      a.calls++;
      return { decision, reason };
    },
  };
  return a;
};

describe('union authorizer', () => {
  const a = attrs(user('jane'), 'list', 'pods', { namespace: 'default' });

  test('the first allow wins and later authorizers are not asked', async () => {
    const later = fixed('deny', 'no');
    const d = await new UnionAuthorizer([fixed('noopinion'), fixed('allow', 'ok'), later]).authorize(a);
    expect(d).toEqual({ decision: 'allow', reason: 'ok' });
    expect(later.calls).toBe(0);
  });

  test('the first deny wins, its reason after the Kubernetes message', async () => {
    const d = await new UnionAuthorizer([fixed('deny', 'not today'), fixed('allow')]).authorize(a);
    expect(d).toEqual({
      decision: 'deny',
      reason: 'User "jane" cannot list resource "pods" in API group "" in the namespace "default": not today',
    });
  });

  test('all no opinion: denied with the Kubernetes message, plus reasons that add something', async () => {
    expect(await new UnionAuthorizer([fixed('noopinion'), fixed('noopinion')]).authorize(a)).toEqual({
      decision: 'deny',
      reason: 'User "jane" cannot list resource "pods" in API group "" in the namespace "default"',
    });
    expect(await new UnionAuthorizer([]).authorize(a)).toEqual({ decision: 'deny', reason: forbiddenMessage(a) });
    // RBAC's reason is the Kubernetes message itself: not repeated
    const d = await new UnionAuthorizer([fixed('noopinion', 'can only read x'), fixed('noopinion', forbiddenMessage(a))]).authorize(a);
    expect(d.reason).toBe(`${forbiddenMessage(a)}: can only read x`);
  });

  test('an authorizer that throws never allows', async () => {
    const broken: Authorizer = {
      authorize() {
        throw new Error('cache not synced');
      },
    };
    const asyncAllow: Authorizer = { authorize: async () => ({ decision: 'allow', reason: 'later' }) };
    expect(await new UnionAuthorizer([broken]).authorize(a)).toEqual({
      decision: 'deny',
      reason: `${forbiddenMessage(a)}: authorizer error: cache not synced`,
    });
    expect((await new UnionAuthorizer([broken, asyncAllow]).authorize(a)).decision).toBe('allow');
  });

  test('cluster-scoped and subresource messages', () => {
    expect(forbiddenMessage(attrs(user('jane'), 'delete', 'nodes', { name: 'n1' }))).toBe(
      'User "jane" cannot delete resource "nodes" in API group "" at the cluster scope',
    );
    expect(denyMessage(attrs(user('jane'), 'get', 'pods/log', { namespace: 'a' }), [''])).toBe(
      'User "jane" cannot get resource "pods/log" in API group "" in the namespace "a"',
    );
  });
});
