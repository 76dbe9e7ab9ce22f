// The pieces of delegated authentication and authorization, without a network: the x509 and
// TokenReview authenticators (cache by outcome and TTL, shared in-flight reviews, failures not
// cached), the delegating union (order, system:authenticated, anonymous only without
// credentials), the SubjectAccessReview authorizer (the spec sent, TTLs per outcome, errors),
// the refusal messages, the HTTPS URL derivation and the flags' contradictions.
import type { PeerCertificate } from 'tls';
import pino from 'pino';
import {
  ANONYMOUS,
  AuthenticationError,
  FakeClock,
  type ReviewUser,
  type SubjectAccessReviewResult,
  type SubjectAccessReviewSpec,
  TokenReviewAuthenticator,
  type TokenReviewResult,
  WebhookAuthorizer,
  accessReviewSpec,
  apiserverHttpsUrl,
  bearerToken,
  delegatedAuthFromConfig,
  delegatingAuthenticator,
  forbiddenMessage,
  x509Authenticator,
} from '../src';
import type { RequestAttributes, UserInfo } from '../src';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function peer(subject: Record<string, string | string[]>, usages: string[] = [CLIENT_AUTH]): PeerCertificate {
  return { subject, ext_key_usage: usages } as unknown as PeerCertificate;
}

/** A TokenReviewer answering from a table, counting reviews; an unknown token is refused with an error text. */
class FakeTokenReviewer {
  calls = 0;
  failNext = false;
  constructor(readonly users: Record<string, ReviewUser>) {}
  async tokenReview(token: string): Promise<TokenReviewResult> {
    this.calls++;
    await new Promise((r) => setImmediate(r));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connect ECONNREFUSED 127.0.0.1:6444');
    }
    const user = this.users[token];
    return user ? { authenticated: true, user, audiences: ['k8ts'] } : { authenticated: false, audiences: [], error: 'invalid bearer token' };
  }
}

const NODES_PROXY: RequestAttributes = {
  kind: 'resource',
  verb: 'get',
  apiGroup: '',
  apiVersion: 'v1',
  resource: 'nodes',
  subresource: 'proxy',
  name: 'node-1',
  namespace: '',
};

describe('x509Authenticator', () => {
  const a = x509Authenticator();
  test('CN is the user, every O a group', async () => {
    expect(await a.authenticate({ peerCertificate: peer({ CN: 'kube-apiserver-kubelet-client', O: ['a', 'b'] }) })).toEqual({
      name: 'kube-apiserver-kubelet-client',
      groups: ['a', 'b'],
    });
    expect(await a.authenticate({ peerCertificate: peer({ CN: 'jane', O: 'dev' }) })).toEqual({ name: 'jane', groups: ['dev'] });
  });
  test('no certificate or no CN: not this authenticator’s caller', async () => {
    expect(await a.authenticate({})).toBeUndefined();
    expect(await a.authenticate({ peerCertificate: peer({ O: 'x' }) })).toBeUndefined();
  });
  test('a certificate that may not authenticate clients is refused', async () => {
    await expect(a.authenticate({ peerCertificate: peer({ CN: 'server' }, [SERVER_AUTH]) })).rejects.toThrow(/incompatible key usage/);
  });
});

test('bearerToken takes the token of "Bearer <token>" only', () => {
  expect(bearerToken('Bearer abc')).toBe('abc');
  expect(bearerToken('bearer  abc ')).toBe('abc');
  expect(bearerToken('Basic abc')).toBeUndefined();
  expect(bearerToken('Bearer ')).toBeUndefined();
  expect(bearerToken(undefined)).toBeUndefined();
});

describe('TokenReviewAuthenticator', () => {
  const jane: ReviewUser = { username: 'jane', uid: 'u1', groups: ['dev', 'system:authenticated'] };

  test('asks once per token within the TTL, for accepted and refused tokens alike; again after it', async () => {
    const clock = new FakeClock();
    const reviewer = new FakeTokenReviewer({ good: jane });
    const a = new TokenReviewAuthenticator(reviewer, { cacheTtlMs: 120_000, clock });
    expect(await a.authenticate({ authorization: 'Bearer good' })).toEqual({ name: 'jane', uid: 'u1', groups: ['dev', 'system:authenticated'] });
    await a.authenticate({ authorization: 'Bearer good' });
    await expect(a.authenticate({ authorization: 'Bearer bad' })).rejects.toThrow('the apiserver did not accept the token: invalid bearer token');
    await expect(a.authenticate({ authorization: 'Bearer bad' })).rejects.toThrow(AuthenticationError);
    expect(reviewer.calls).toBe(2);
    await clock.advance(120_000);
    await a.authenticate({ authorization: 'Bearer good' });
    expect(reviewer.calls).toBe(3);
  });

  test('concurrent calls with one token share one review', async () => {
    const reviewer = new FakeTokenReviewer({ good: jane });
    const a = new TokenReviewAuthenticator(reviewer, { cacheTtlMs: 60_000 });
    const users = await Promise.all([1, 2, 3].map(() => a.authenticate({ authorization: 'Bearer good' })));
    expect(users.map((u) => u?.name)).toEqual(['jane', 'jane', 'jane']);
    expect(reviewer.calls).toBe(1);
  });

  test('a review that fails is not cached', async () => {
    const reviewer = new FakeTokenReviewer({ good: jane });
    const a = new TokenReviewAuthenticator(reviewer, { cacheTtlMs: 60_000 });
    reviewer.failNext = true;
    await expect(a.authenticate({ authorization: 'Bearer good' })).rejects.toThrow(/could not be checked: connect ECONNREFUSED/);
    expect((await a.authenticate({ authorization: 'Bearer good' }))?.name).toBe('jane');
  });

  test('no bearer token: not this authenticator’s caller, nothing asked', async () => {
    const reviewer = new FakeTokenReviewer({});
    const a = new TokenReviewAuthenticator(reviewer, { cacheTtlMs: 60_000 });
    expect(await a.authenticate({})).toBeUndefined();
    expect(reviewer.calls).toBe(0);
  });
});

describe('delegatingAuthenticator', () => {
  const tokens = () => new TokenReviewAuthenticator(new FakeTokenReviewer({ good: { username: 'jane', groups: ['dev'] } }), { cacheTtlMs: 0 });

  test('the certificate comes first; every user is in system:authenticated', async () => {
    const a = delegatingAuthenticator([x509Authenticator(), tokens()], { anonymous: false });
    const both = await a.authenticate({ peerCertificate: peer({ CN: 'cert-user' }), authorization: 'Bearer good' });
    expect(both).toEqual({ name: 'cert-user', groups: ['system:authenticated'] });
    expect(await a.authenticate({ authorization: 'Bearer good' })).toEqual({ name: 'jane', groups: ['dev', 'system:authenticated'] });
  });

  test('no credentials: anonymous only when allowed', async () => {
    expect(await delegatingAuthenticator([x509Authenticator(), tokens()], { anonymous: false }).authenticate({})).toBeUndefined();
    expect(await delegatingAuthenticator([x509Authenticator(), tokens()], { anonymous: true }).authenticate({})).toEqual(ANONYMOUS);
  });

  test('refused credentials are refused even with anonymous callers allowed', async () => {
    const a = delegatingAuthenticator([x509Authenticator(), tokens()], { anonymous: true });
    await expect(a.authenticate({ authorization: 'Bearer bad' })).rejects.toThrow(/did not accept the token/);
  });
});

/** An AccessReviewer that allows what `allow` says, recording the specs. */
class FakeAccessReviewer {
  specs: SubjectAccessReviewSpec[] = [];
  fail = false;
  constructor(readonly allow: (spec: SubjectAccessReviewSpec) => boolean) {}
  async subjectAccessReview(spec: SubjectAccessReviewSpec): Promise<SubjectAccessReviewResult> {
    this.specs.push(spec);
    if (this.fail) throw new Error('SubjectAccessReview: HTTP 500: etcd down');
    const allowed = this.allow(spec);
    return { allowed, denied: false, reason: allowed ? 'RBAC: allowed' : '', evaluationError: '' };
  }
}

describe('WebhookAuthorizer', () => {
  const admin: UserInfo = { name: 'kube-apiserver-kubelet-client', groups: ['system:authenticated'] };
  const jane: UserInfo = { name: 'jane', uid: 'u1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a'] } };

  test('sends exactly the user and the attributes', async () => {
    const reviewer = new FakeAccessReviewer(() => true);
    await new WebhookAuthorizer(reviewer, { authorizedTtlMs: 1, unauthorizedTtlMs: 1 }).authorize(jane, NODES_PROXY);
    expect(reviewer.specs[0]).toEqual({
      user: 'jane',
      uid: 'u1',
      groups: ['dev', 'system:authenticated'],
      extra: { scopes: ['a'] },
      resourceAttributes: { verb: 'get', group: '', version: 'v1', resource: 'nodes', subresource: 'proxy', name: 'node-1' },
    });
    expect(accessReviewSpec(jane, { kind: 'nonResource', verb: 'get', path: '/k8ts.proxy.v1.ProxyService/ListRules' }).nonResourceAttributes).toEqual({
      verb: 'get',
      path: '/k8ts.proxy.v1.ProxyService/ListRules',
    });
  });

  test('an allowed answer is kept for the authorized TTL, a refusal for the unauthorized TTL', async () => {
    const clock = new FakeClock();
    const reviewer = new FakeAccessReviewer((s) => s.user === admin.name);
    const z = new WebhookAuthorizer(reviewer, { authorizedTtlMs: 300_000, unauthorizedTtlMs: 30_000, clock });
    expect((await z.authorize(admin, NODES_PROXY)).allowed).toBe(true);
    expect((await z.authorize(jane, NODES_PROXY)).allowed).toBe(false);
    await z.authorize(admin, NODES_PROXY);
    await z.authorize(jane, NODES_PROXY);
    expect(reviewer.specs).toHaveLength(2);
    await clock.advance(30_000);
    await z.authorize(admin, NODES_PROXY);
    await z.authorize(jane, NODES_PROXY);
    expect(reviewer.specs.map((s) => s.user)).toEqual([admin.name, 'jane', 'jane']);
    await clock.advance(270_000);
    await z.authorize(admin, NODES_PROXY);
    expect(reviewer.specs).toHaveLength(4);
  });

  test('other attributes are another question', async () => {
    const reviewer = new FakeAccessReviewer(() => true);
    const z = new WebhookAuthorizer(reviewer, { authorizedTtlMs: 60_000, unauthorizedTtlMs: 60_000 });
    await z.authorize(admin, NODES_PROXY);
    await z.authorize(admin, { ...NODES_PROXY, name: 'node-2' });
    expect(reviewer.specs).toHaveLength(2);
  });

  test('a failed review is thrown and not cached', async () => {
    const reviewer = new FakeAccessReviewer(() => true);
    const z = new WebhookAuthorizer(reviewer, { authorizedTtlMs: 60_000, unauthorizedTtlMs: 60_000 });
    reviewer.fail = true;
    await expect(z.authorize(admin, NODES_PROXY)).rejects.toThrow('etcd down');
    reviewer.fail = false;
    expect((await z.authorize(admin, NODES_PROXY)).allowed).toBe(true);
  });
});

test("forbiddenMessage: the kubelet's for resources, the apiserver's for paths", () => {
  const jane: UserInfo = { name: 'jane', groups: [] };
  expect(forbiddenMessage(jane, NODES_PROXY)).toBe('Forbidden (user=jane, verb=get, resource=nodes, subresource=proxy)');
  expect(forbiddenMessage(jane, { kind: 'nonResource', verb: 'get', path: '/x.Y/Z' })).toBe('forbidden: User "jane" cannot get path "/x.Y/Z"');
});

test('apiserverHttpsUrl: the flag, else the gRPC host with its port + 1', () => {
  expect(apiserverHttpsUrl({ apiserverHttps: 'https://10.0.0.1:6443/' })).toBe('https://10.0.0.1:6443');
  expect(apiserverHttpsUrl({ apiserver: '127.0.0.1:6443' })).toBe('https://127.0.0.1:6444');
  expect(apiserverHttpsUrl({ apiserver: 'dns:///apiserver.kube-system:6443' })).toBe('https://apiserver.kube-system:6444');
  expect(apiserverHttpsUrl({ apiserver: '[::1]:6443' })).toBe('https://[::1]:6444');
  expect(apiserverHttpsUrl({ apiserver: 'unix:///run/apiserver.sock' })).toBeUndefined();
  expect(apiserverHttpsUrl({})).toBeUndefined();
});

describe('delegatedAuthFromConfig', () => {
  const opts = {
    component: 'kubelet',
    userAgent: 'kubelet/test',
    servingHosts: ['127.10.0.1'],
    attributes: () => NODES_PROXY,
    logger: pino({ level: 'silent' }),
  };

  test("refuses the kit's --tls-client-ca, which would require a certificate of every caller", async () => {
    await expect(delegatedAuthFromConfig({ tlsClientCa: '/ca.crt', apiserver: '127.0.0.1:1' }, opts)).rejects.toMatchObject({
      name: 'ConfigError',
      flag: 'tls-client-ca',
    });
  });

  test('a review with no apiserver to ask is a ConfigError naming the flag that turns it off', async () => {
    await expect(delegatedAuthFromConfig({}, opts)).rejects.toMatchObject({ name: 'ConfigError', flag: 'authentication-token-webhook' });
    await expect(delegatedAuthFromConfig({ authenticationTokenWebhook: false }, opts)).rejects.toMatchObject({ name: 'ConfigError', flag: 'authorization-mode' });
  });

  test('without --tls-cert: a self-signed certificate for the serving hosts, and a warning', async () => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const auth = await delegatedAuthFromConfig(
      { authenticationTokenWebhook: false, authorizationMode: 'AlwaysAllow', anonymousAuth: true },
      { ...opts, logger },
    );
    const { X509Certificate } = await import('crypto');
    const cert = new X509Certificate(auth.tls.cert);
    expect(cert.subjectAltName).toContain('IP Address:127.10.0.1');
    expect(auth.tls.clientCa).toBeUndefined();
    expect(lines.map((l) => l.msg).join('\n')).toMatch(/self-signed[\s\S]*--anonymous-auth[\s\S]*AlwaysAllow/);
  });
});
