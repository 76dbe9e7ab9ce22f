import type { corev1 } from '@k8ts/api';
import { deepCopy } from '@k8ts/client';
import { TokenController } from '../src/controllers/token';
import type { TokenRequester } from '../src/tokenrequest';
import { all, harness } from './helpers';

type H = ReturnType<typeof harness>;

function account(name: string, namespace = 'default'): corev1.ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } };
}

/** Issues readable fake tokens and remembers what each was bound to. */
function fakeTokens(): TokenRequester & { issued: { namespace: string; name: string; bound: corev1.ObjectReference }[] } {
  const issued: { namespace: string; name: string; bound: corev1.ObjectReference }[] = [];
  return {
    issued,
    async createToken(namespace, name, bound) {
      issued.push({ namespace, name, bound });
      return `token-for-${namespace}-${name}-${bound.name}`;
    },
  };
}

const tokenSecrets = (h: H, namespace = 'default') =>
  all<corev1.Secret>(h.cs, 'secrets').filter((s) => s.metadata?.namespace === namespace && s.type === 'kubernetes.io/service-account-token');

describe('token controller', () => {
  test('each service account gets a token Secret, referenced by the account, with a token bound to the Secret', async () => {
    const tokens = fakeTokens();
    const h = harness([account('builder')]);
    const c = new TokenController(h.ctx, { tokens, rootCA: Buffer.from('PEM') });
    await h.start();
    h.run(c);
    await h.until(() => tokenSecrets(h).some((s) => (s.data?.token?.length ?? 0) > 0));
    const [secret] = tokenSecrets(h);
    const sa = h.cs.tracker.get('serviceaccounts', 'default', 'builder') as corev1.ServiceAccount;
    expect(secret.metadata?.name).toMatch(/^builder-token-[a-z0-9]{5}$/);
    expect(secret.metadata?.annotations).toEqual({
      'kubernetes.io/service-account.name': 'builder',
      'kubernetes.io/service-account.uid': sa.metadata?.uid,
    });
    expect(Buffer.from(secret.data!.token).toString()).toBe(`token-for-default-builder-${secret.metadata?.name}`);
    expect(Buffer.from(secret.data!.namespace).toString()).toBe('default');
    expect(Buffer.from(secret.data!['ca.crt']).toString()).toBe('PEM');
    expect(tokens.issued).toEqual([
      { namespace: 'default', name: 'builder', bound: { kind: 'Secret', apiVersion: 'v1', namespace: 'default', name: secret.metadata?.name, uid: secret.metadata?.uid } },
    ]);
    await h.until(() => (h.cs.tracker.get('serviceaccounts', 'default', 'builder') as corev1.ServiceAccount).secrets?.[0]?.name === secret.metadata?.name);
    // Stable: no second Secret, no second token.
    await h.clock.advance(1000);
    await h.settle();
    expect(tokenSecrets(h)).toHaveLength(1);
    expect(tokens.issued).toHaveLength(1);
    await h.stop();
  });

  test('deleting the account deletes its token Secrets; a deleted token Secret is replaced', async () => {
    const tokens = fakeTokens();
    const h = harness([account('a'), account('b')]);
    const c = new TokenController(h.ctx, { tokens });
    await h.start();
    h.run(c);
    await h.until(() => tokenSecrets(h).filter((s) => (s.data?.token?.length ?? 0) > 0).length === 2);
    const ofA = tokenSecrets(h).find((s) => s.metadata?.annotations?.['kubernetes.io/service-account.name'] === 'a')!;
    await h.cs.secrets.delete(ofA.metadata!.name!, { namespace: 'default' });
    await h.until(() => {
      const mine = tokenSecrets(h).filter((s) => s.metadata?.annotations?.['kubernetes.io/service-account.name'] === 'a');
      return mine.length === 1 && mine[0].metadata?.name !== ofA.metadata?.name && (mine[0].data?.token?.length ?? 0) > 0;
    });
    await h.until(() => {
      const refs = (h.cs.tracker.get('serviceaccounts', 'default', 'a') as corev1.ServiceAccount).secrets ?? [];
      return refs.length === 1 && refs[0].name !== ofA.metadata?.name;
    });
    await h.cs.serviceAccounts.delete('b', { namespace: 'default' });
    await h.until(() => !tokenSecrets(h).some((s) => s.metadata?.annotations?.['kubernetes.io/service-account.name'] === 'b'));
    expect(tokenSecrets(h)).toHaveLength(1);
    await h.stop();
  });

  test('a token Secret of an earlier account of the same name is deleted; one without a token is filled', async () => {
    const tokens = fakeTokens();
    const stale: corev1.Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: 'old-token', namespace: 'default', annotations: { 'kubernetes.io/service-account.name': 'builder', 'kubernetes.io/service-account.uid': 'gone' } },
    };
    const userMade: corev1.Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: 'mine', namespace: 'default', annotations: { 'kubernetes.io/service-account.name': 'ci' } },
    };
    const h = harness([account('builder'), account('ci'), stale, userMade]);
    const c = new TokenController(h.ctx, { tokens });
    await h.start();
    h.run(c);
    await h.until(() => !h.cs.tracker.get('secrets', 'default', 'old-token'));
    await h.until(() => ((h.cs.tracker.get('secrets', 'default', 'mine') as corev1.Secret).data?.token?.length ?? 0) > 0);
    const mine = h.cs.tracker.get('secrets', 'default', 'mine') as corev1.Secret;
    const ci = h.cs.tracker.get('serviceaccounts', 'default', 'ci') as corev1.ServiceAccount;
    expect(mine.metadata?.annotations?.['kubernetes.io/service-account.uid']).toBe(ci.metadata?.uid);
    // The user's Secret serves as ci's token Secret: no other one is made for ci.
    await h.until(() => ((h.cs.tracker.get('serviceaccounts', 'default', 'ci') as corev1.ServiceAccount).secrets ?? []).length === 1);
    expect(tokenSecrets(h).filter((s) => s.metadata?.annotations?.['kubernetes.io/service-account.name'] === 'ci')).toHaveLength(1);
    // A secret that claims a token but names no existing account is removed.
    const orphan = deepCopy(userMade);
    orphan.metadata = { name: 'nobodys', namespace: 'default', annotations: { 'kubernetes.io/service-account.name': 'nobody' } };
    await h.cs.secrets.create(orphan);
    await h.until(() => !h.cs.tracker.get('secrets', 'default', 'nobodys'));
    await h.stop();
  });
});
