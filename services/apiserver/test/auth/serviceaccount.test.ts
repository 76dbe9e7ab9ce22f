import * as crypto from 'node:crypto';
import {
  AuthError,
  decodeJwt,
  generateKeyPairPem,
  issueServiceAccountToken,
  loadVerificationKeys,
  parseServiceAccountUsername,
  ServiceAccountAuthenticator,
  serviceAccountUsername,
  TokenIssuer,
  TokenVerifier,
} from '../../src/auth';
import { FakeServiceAccountSource } from './fakes';

// One key pair of each kind for the whole file (RSA generation takes a moment).
const ES = generateKeyPairPem('ES256');
const RS = generateKeyPairPem('RS256');
const T0 = Date.UTC(2026, 0, 1); // the fake clock's start

function setup(opts: { pem?: { privateKeyPem: string; publicKeyPem: string }; audiences?: string[] } = {}) {
  const pem = opts.pem ?? ES;
  let now = T0;
  const clock = () => now;
  const issuer = new TokenIssuer({ key: pem.privateKeyPem, issuer: 'https://k8ts.test', audiences: ['k8ts'], now: clock });
  const verifier = new TokenVerifier({ keys: pem.publicKeyPem, issuers: ['https://k8ts.test'], audiences: opts.audiences ?? ['k8ts'], now: clock });
  const source = new FakeServiceAccountSource();
  source.addAccount('default', 'builder', 'uid-1');
  const authn = new ServiceAccountAuthenticator(verifier, source);
  return { issuer, verifier, source, authn, advance: (ms: number) => (now += ms) };
}

async function rejection(p: Promise<unknown>): Promise<AuthError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AuthError) return e;
    throw e;
  }
  throw new Error('expected an AuthError');
}

describe('service-account tokens', () => {
  test.each([
    ['ES256', ES],
    ['RS256', RS],
  ])('issue and verify with %s', async (alg, pem) => {
    const { issuer, authn } = setup({ pem });
    const token = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    const { header, claims } = decodeJwt(token);
    expect(header).toMatchObject({ alg, typ: 'JWT' });
    expect(claims).toMatchObject({
      iss: 'https://k8ts.test',
      sub: 'system:serviceaccount:default:builder',
      aud: ['k8ts'],
      iat: T0 / 1000,
      k8ts: { namespace: 'default', serviceaccount: { name: 'builder', uid: 'uid-1' } },
    });
    expect(claims.exp).toBeUndefined(); // long-lived unless asked
    const user = await authn.authenticate(token);
    expect(user).toMatchObject({
      name: 'system:serviceaccount:default:builder',
      uid: 'uid-1',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
    });
    expect(user!.extra!['authentication.kubernetes.io/credential-id'][0]).toBe(`JTI=${claims.jti}`);
  });

  test('a tampered payload or signature is rejected', async () => {
    const { issuer, authn } = setup();
    const token = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.k8ts.serviceaccount.name = 'admin';
    claims.sub = 'system:serviceaccount:default:admin';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    expect((await rejection(authn.authenticate(forged))).message).toBe('invalid service account token: the token signature is invalid');
    const sig = Buffer.from(s, 'base64url');
    sig[5] ^= 0xff;
    const badSig = `${h}.${p}.${sig.toString('base64url')}`;
    expect((await rejection(authn.authenticate(badSig))).message).toBe('invalid service account token: the token signature is invalid');
  });

  test('a token signed by another key is rejected', async () => {
    const { authn } = setup();
    const other = new TokenIssuer({ key: generateKeyPairPem('ES256').privateKeyPem, issuer: 'https://k8ts.test', now: () => T0 });
    const token = issueServiceAccountToken(other, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    expect((await rejection(authn.authenticate(token))).message).toBe('invalid service account token: the token is signed by an unknown key');
  });

  test('alg none and HS256 are refused', async () => {
    const { issuer, authn } = setup();
    const token = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    const [, p] = token.split('.');
    for (const alg of ['none', 'HS256']) {
      const h = Buffer.from(JSON.stringify({ alg, typ: 'JWT' })).toString('base64url');
      const sig = crypto.createHmac('sha256', ES.publicKeyPem).update(`${h}.${p}`).digest('base64url');
      const e = await rejection(authn.authenticate(`${h}.${p}.${sig}`));
      expect(e.message).toBe(`invalid service account token: the token's algorithm "${alg}" is not accepted (RS256 or ES256)`);
    }
  });

  test('wrong audience', async () => {
    const { issuer, authn } = setup();
    const token = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1', audiences: ['vault'] });
    expect((await rejection(authn.authenticate(token))).message).toBe(
      'invalid service account token: the token is for audience "vault", not this apiserver',
    );
  });

  test('expired (bound token with exp), with 60 s of leeway', async () => {
    const { issuer, authn, advance } = setup();
    const token = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1', expirationSeconds: 600 });
    expect(decodeJwt(token).claims.exp).toBe(T0 / 1000 + 600);
    advance(600_000 + 59_000);
    expect(await authn.authenticate(token)).not.toBeNull();
    advance(2_000);
    const e = await rejection(authn.authenticate(token));
    expect(e.message).toBe(`invalid service account token: the token expired at ${new Date(T0 + 600_000).toISOString()}`);
  });

  test('a deleted account invalidates its tokens', async () => {
    const { issuer, authn, source } = setup();
    const token = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    expect(await authn.authenticate(token)).not.toBeNull();
    source.accounts.delete('default/builder');
    expect((await rejection(authn.authenticate(token))).message).toBe(
      'service account default/builder does not exist: its tokens are no longer valid',
    );
  });

  test('an account re-created with another uid does not revive old tokens', async () => {
    const { issuer, authn, source } = setup();
    const old = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    source.accounts.delete('default/builder');
    source.addAccount('default', 'builder', 'uid-2');
    expect((await rejection(authn.authenticate(old))).message).toBe(
      'service account default/builder was deleted and re-created (uid uid-1 is now uid-2): tokens of the old account are no longer valid',
    );
    const fresh = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-2' });
    expect((await authn.authenticate(fresh))!.uid).toBe('uid-2');
  });

  test('an account being deleted no longer authenticates', async () => {
    const { issuer, authn, source } = setup();
    const token = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    source.getServiceAccount('default', 'builder')!.metadata!.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect((await rejection(authn.authenticate(token))).message).toMatch(/is being deleted/);
  });

  test('a token bound to a secret dies with the secret; one bound to a pod dies with the pod', async () => {
    const { issuer, authn, source } = setup();
    source.secrets.set('default/builder-token', { metadata: { name: 'builder-token', uid: 's1' } });
    source.pods.set('default/web', { metadata: { name: 'web', uid: 'p1' } });
    const legacy = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1', secret: { name: 'builder-token', uid: 's1' } });
    const bound = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1', pod: { name: 'web', uid: 'p1' }, expirationSeconds: 3600 });
    expect(await authn.authenticate(legacy)).not.toBeNull();
    const u = await authn.authenticate(bound);
    expect(u!.extra).toMatchObject({ 'authentication.kubernetes.io/pod-name': ['web'], 'authentication.kubernetes.io/pod-uid': ['p1'] });
    source.secrets.delete('default/builder-token');
    source.pods.set('default/web', { metadata: { name: 'web', uid: 'p2' } }); // a new pod of the same name
    expect((await rejection(authn.authenticate(legacy))).message).toMatch(/secret default\/builder-token .* was deleted/);
    expect((await rejection(authn.authenticate(bound))).message).toMatch(/pod default\/web .* is gone/);
  });

  test('tokens that are not ours are left to other authenticators (null)', async () => {
    const { authn } = setup();
    expect(await authn.authenticate(undefined)).toBeNull();
    expect(await authn.authenticate('static-token')).toBeNull();
    const foreign = new TokenIssuer({ key: ES.privateKeyPem, issuer: 'https://elsewhere', now: () => T0 });
    expect(await authn.authenticate(issueServiceAccountToken(foreign, { namespace: 'default', name: 'builder', uid: 'uid-1' }))).toBeNull();
  });

  test('error messages never contain the token', async () => {
    const { issuer, authn, source } = setup();
    const token = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1', audiences: ['x'] });
    const e1 = await rejection(authn.authenticate(token));
    source.accounts.clear();
    const e2 = await rejection(authn.authenticate(issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' })));
    for (const e of [e1, e2]) {
      for (const part of token.split('.')) expect(e.message).not.toContain(part);
    }
  });

  test('key rotation: the verifier accepts several keys; the kid picks the right one', async () => {
    const source = new FakeServiceAccountSource();
    source.addAccount('default', 'builder', 'uid-1');
    const verifier = new TokenVerifier({ keys: [ES.publicKeyPem, RS.publicKeyPem], issuers: ['k8ts'], audiences: ['k8ts'] });
    const authn = new ServiceAccountAuthenticator(verifier, source);
    for (const pem of [ES, RS]) {
      const token = issueServiceAccountToken(new TokenIssuer({ key: pem.privateKeyPem }), { namespace: 'default', name: 'builder', uid: 'uid-1' });
      expect((await authn.authenticate(token))!.name).toBe('system:serviceaccount:default:builder');
    }
  });

  test('verification keys load from public keys, private keys and several blocks in one text', () => {
    const keys = loadVerificationKeys(`${ES.publicKeyPem}\n${RS.privateKeyPem}`);
    expect(keys.map((k) => k.alg)).toEqual(['ES256', 'RS256']);
    expect(() => loadVerificationKeys('nothing here')).toThrow(/no PEM key found/);
  });

  test('small RSA keys and other curves are refused', () => {
    const small = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => new TokenIssuer({ key: small })).toThrow(/at least 2048 bits, this one has 1024/);
    const p384 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => new TokenIssuer({ key: p384 })).toThrow(/curve P-256/);
  });

  test('user names', () => {
    expect(serviceAccountUsername('kube-system', 'default')).toBe('system:serviceaccount:kube-system:default');
    expect(parseServiceAccountUsername('system:serviceaccount:ns:sa')).toEqual({ namespace: 'ns', name: 'sa' });
    expect(parseServiceAccountUsername('system:serviceaccount:ns')).toBeUndefined();
    expect(parseServiceAccountUsername('admin')).toBeUndefined();
    const { issuer } = setup();
    expect(() => issueServiceAccountToken(issuer, { namespace: 'a:b', name: 'x', uid: 'u' })).toThrow(/namespace/);
    expect(() => issueServiceAccountToken(issuer, { namespace: 'a', name: 'x', uid: '' })).toThrow(/uid is required/);
  });
});
