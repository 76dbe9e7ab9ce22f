// TokenReview and SelfSubjectReview (kubectl auth whoami), answered by the apiserver's authenticator.
import { TokenIssuer, generateKeyPairPem, issueServiceAccountToken } from '../src/auth';
import { STATIC_TOKEN, anonymous, failure, jane, post, serviceAccountToken, world } from './reviews.fixture';

const TR = 'tokenreviews';
const review = (token: string, audiences?: string[]) => ({
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenReview',
  metadata: { creationTimestamp: null },
  spec: { token, ...(audiences ? { audiences } : {}) },
});

describe('TokenReview', () => {
  const w = world();

  test('a static token: the user with its groups, for the apiserver audiences; the request is echoed', async () => {
    const out = await post(w, TR, review(STATIC_TOKEN));
    expect(out).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      metadata: { creationTimestamp: null },
      spec: { token: STATIC_TOKEN },
      status: { authenticated: true, user: { username: 'alice', uid: 'uid-alice', groups: ['team-a', 'system:authenticated'] }, audiences: ['k8ts'] },
    });
  });

  test('a static token is good for no other audience: not authenticated, and no error', async () => {
    const out = await post(w, TR, review(STATIC_TOKEN, ['vault']));
    expect(out.status).toEqual({ user: {} });
    const mixed = await post(w, TR, review(STATIC_TOKEN, ['vault', 'k8ts']));
    expect(mixed.status).toMatchObject({ authenticated: true, audiences: ['k8ts'] });
    expect(mixed.spec).toEqual({ token: STATIC_TOKEN, audiences: ['vault', 'k8ts'] });
  });

  test('a service-account token: its user, groups and extra; audiences from its claim', async () => {
    const out = await post(w, TR, review(serviceAccountToken(w)));
    const status = out.status as { authenticated: boolean; user: { username: string; groups: string[]; uid?: string; extra?: Record<string, string[]> }; audiences: string[] };
    expect(status.authenticated).toBe(true);
    expect(status.user.username).toBe('system:serviceaccount:dev:builder');
    expect(status.user.uid).toBe('uid-builder');
    expect(status.user.groups).toEqual(expect.arrayContaining(['system:serviceaccounts', 'system:serviceaccounts:dev', 'system:authenticated']));
    expect(status.audiences).toEqual(['k8ts']);
  });

  test('a service-account token asked for another audience: refused with Kubernetes words', async () => {
    const out = await post(w, TR, review(serviceAccountToken(w), ['vault']));
    expect(out.status).toEqual({ user: {}, error: 'token audiences ["k8ts"] is invalid for the target audiences ["vault"]' });
  });

  test('an unknown or forged token: not authenticated, with the reason', async () => {
    const unknown = await post(w, TR, review('nobody-knows-this-token'));
    expect(unknown.status).toEqual({ user: {}, error: expect.stringContaining('invalid bearer token') });
    const other = new TokenIssuer({ key: generateKeyPairPem().privateKeyPem, issuer: 'k8ts' });
    const forged = issueServiceAccountToken(other, { namespace: 'dev', name: 'builder', uid: 'uid-builder' });
    const out = await post(w, TR, review(forged));
    expect(out.status).toEqual({ user: {}, error: expect.stringMatching(/^invalid service account token: /) });
  });

  test('BadRequest: no token, a namespace, a token of the wrong type', async () => {
    expect(await failure(post(w, TR, review('')))).toMatchObject({ httpCode: 400, message: 'token is required for TokenReview in authentication' });
    expect(await failure(post(w, TR, review(STATIC_TOKEN), jane, 'dev'))).toMatchObject({ httpCode: 400, message: 'namespace is not allowed on this type: dev' });
    const typed = await failure(post(w, TR, { spec: { token: 42 } }));
    expect(typed.message).toContain('TokenReview.spec.token of type string');
  });
});

describe('SelfSubjectReview (kubectl auth whoami)', () => {
  const w = world();
  const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: { creationTimestamp: null }, status: { userInfo: {} } };

  test("the caller's user info, with a creation time", async () => {
    const caller = { name: 'jane', uid: 'u-7', groups: ['devs', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=1'] } };
    const before = Date.now();
    const out = await post(w, 'selfsubjectreviews', body, caller);
    expect(out).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
      metadata: { creationTimestamp: expect.any(String) },
      status: { userInfo: { username: 'jane', uid: 'u-7', groups: ['devs', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=1'] } } },
    });
    const created = Date.parse((out.metadata as { creationTimestamp: string }).creationTimestamp);
    expect(created).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });

  test('anonymous callers, and empty fields left out', async () => {
    const out = await post(w, 'selfsubjectreviews', body, anonymous);
    expect(out.status).toEqual({ userInfo: { username: 'system:anonymous', groups: ['system:unauthenticated'] } });
    expect((await failure(post(w, 'selfsubjectreviews', { apiVersion: 'v1', kind: 'Pod' }))).httpCode).toBe(400);
  });
});
