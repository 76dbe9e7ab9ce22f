import { breakdownRule, checkBindingEscalation, checkRoleEscalation, RbacAuthorizer, bootstrapPolicy, uncoveredRules } from '../../src/auth';
import { clusterRole, clusterRoleBinding, FakeRbacSource, role, roleBinding, user } from './fakes';

function fixture() {
  const p = bootstrapPolicy();
  const src = new FakeRbacSource(p.roles, p.clusterRoles, [], p.clusterRoleBindings);
  src.roleBindingList.push(roleBinding('team', 'alice-admin', { kind: 'ClusterRole', name: 'admin' }, [{ kind: 'User', name: 'alice' }]));
  src.roleList.push(role('team', 'pod-reader', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]));
  src.clusterRoleList.push(clusterRole('binder', [{ verbs: ['bind'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], resourceNames: ['cluster-admin'] }]));
  src.clusterRoleBindingList.push(clusterRoleBinding('carol-binder', 'binder', [{ kind: 'User', name: 'carol' }]));
  return new RbacAuthorizer(src);
}

describe('escalation prevention', () => {
  const rbac = fixture();
  const alice = user('alice');

  test('a namespace admin may create a Role within what they hold', () => {
    expect(checkRoleEscalation(rbac, alice, { namespace: 'team', name: 'r', rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] })).toBeUndefined();
  });

  test('but not one granting more, nor the same in another namespace', () => {
    const msg = checkRoleEscalation(rbac, alice, { namespace: 'team', name: 'r', rules: [{ verbs: ['delete'], apiGroups: [''], resources: ['nodes'] }] });
    expect(msg).toBe(
      'user "alice" is attempting to grant RBAC permissions not currently held in the namespace "team": {APIGroups:[""], Resources:["nodes"], Verbs:["delete"]}',
    );
    expect(checkRoleEscalation(rbac, alice, { namespace: 'prod', name: 'r', rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] })).toMatch(/not currently held in the namespace "prod"/);
    // a wildcard is covered only by a wildcard
    expect(checkRoleEscalation(rbac, alice, { namespace: 'team', rules: [{ verbs: ['get'], apiGroups: [''], resources: ['*'] }] })).toMatch(/Resources:\["\*"\]/);
  });

  test('binding: allowed for a role within what the user holds; cluster-admin is not', () => {
    expect(checkBindingEscalation(rbac, alice, { namespace: 'team', roleRef: { kind: 'Role', name: 'pod-reader' } })).toBeUndefined();
    expect(checkBindingEscalation(rbac, alice, { namespace: 'team', roleRef: { kind: 'ClusterRole', name: 'view' } })).toBeUndefined();
    expect(checkBindingEscalation(rbac, alice, { namespace: 'team', roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } })).toMatch(
      /^user "alice" is attempting to grant RBAC permissions not currently held in the namespace "team": /,
    );
    expect(checkBindingEscalation(rbac, alice, { namespace: 'team', roleRef: { kind: 'Role', name: 'nope' } })).toBe(
      'Role "nope" not found in the namespace "team": a binding must refer to an existing role (unless the user may "bind" it)',
    );
  });

  test('the bind verb on a role, or system:masters, allows binding it', () => {
    expect(checkBindingEscalation(rbac, user('carol'), { roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } })).toBeUndefined();
    expect(checkBindingEscalation(rbac, user('carol'), { roleRef: { kind: 'ClusterRole', name: 'admin' } })).toMatch(/not currently held at the cluster scope/);
    expect(checkRoleEscalation(rbac, user('root', 'system:masters'), { rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] })).toBeUndefined();
  });

  test('writing an aggregated ClusterRole needs every permission', () => {
    expect(
      checkRoleEscalation(rbac, alice, { name: 'agg', aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] } }),
    ).toMatch(/at the cluster scope: \{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
  });

  test('rule breakdown and coverage', () => {
    expect(breakdownRule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: ['a'] })).toHaveLength(4);
    const owned = [{ verbs: ['get'], apiGroups: ['*'], resources: ['*/status'] }, { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }];
    expect(uncoveredRules(owned, [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments/status'] }])).toEqual([]);
    expect(uncoveredRules(owned, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] }])).toEqual([]);
    expect(uncoveredRules(owned, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }])).toHaveLength(1);
  });
});
