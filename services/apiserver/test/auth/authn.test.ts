// Node credentials and the union of authenticators.
import {
  AuthError,
  bearerToken,
  createAuthenticator,
  generateKeyPairPem,
  issueNodeToken,
  issueServiceAccountToken,
  NodeTokenAuthenticator,
  nodeIdentity,
  TokenFileAuthenticator,
  TokenIssuer,
  TokenVerifier,
} from '../../src/auth';
import { FakeServiceAccountSource } from './fakes';

const PEM = generateKeyPairPem();

async function rejection(p: Promise<unknown>): Promise<AuthError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AuthError) return e;
    throw e;
  }
  throw new Error('expected an AuthError');
}

function setup() {
  let now = Date.UTC(2026, 0, 1);
  const issuer = new TokenIssuer({ key: PEM.privateKeyPem, now: () => now });
  const verifier = new TokenVerifier({ keys: PEM.publicKeyPem, issuers: [issuer.issuer], audiences: [...issuer.audiences], now: () => now });
  const accounts = new FakeServiceAccountSource();
  accounts.addAccount('default', 'builder', 'uid-1');
  const tokenFile = TokenFileAuthenticator.parse('admin-token,admin,1,system:masters\nsched-token,system:kube-scheduler,,\n');
  return { issuer, verifier, accounts, tokenFile, advance: (ms: number) => (now += ms) };
}

describe('node credentials', () => {
  test('a node token authenticates as system:node:<name> in system:nodes', async () => {
    const { issuer, verifier } = setup();
    const token = issueNodeToken(issuer, { nodeName: 'n1' });
    const user = await new NodeTokenAuthenticator(verifier).authenticate(token);
    expect(user).toMatchObject({ name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] });
    expect(nodeIdentity(user!)).toEqual({ isNode: true, nodeName: 'n1' });
  });

  test('expired and revoked node tokens are rejected; service-account tokens are not node tokens', async () => {
    const { issuer, verifier, advance } = setup();
    const short = issueNodeToken(issuer, { nodeName: 'n1', expirationSeconds: 60 });
    const revoked = issueNodeToken(issuer, { nodeName: 'n2' });
    const jti = JSON.parse(Buffer.from(revoked.split('.')[1], 'base64url').toString()).jti;
    const authn = new NodeTokenAuthenticator(verifier, { isRevoked: (id) => id === jti });
    expect((await rejection(authn.authenticate(revoked))).message).toBe('the node token of n2 has been revoked');
    advance(121_000);
    expect((await rejection(authn.authenticate(short))).message).toMatch(/^invalid node token: the token expired at /);
    const sa = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    expect(await authn.authenticate(sa)).toBeNull();
  });

  test('node identity needs the group and the name form', () => {
    expect(nodeIdentity({ name: 'system:node:n1', groups: [] })).toEqual({ isNode: false });
    expect(nodeIdentity({ name: 'kubelet', groups: ['system:nodes'] })).toEqual({ isNode: true, nodeName: undefined });
    expect(() => issueNodeToken(setup().issuer, { nodeName: 'a:b' })).toThrow(/invalid node name/);
  });
});

describe('union authenticator', () => {
  test('no token: null (the server answers UNAUTHENTICATED except for health)', async () => {
    const { verifier, accounts, tokenFile } = setup();
    const authn = createAuthenticator({ tokenFile, verifier, serviceAccounts: accounts });
    expect(await authn.authenticate(undefined)).toBeNull();
    expect(await authn.authenticate('')).toBeNull();
  });

  test('each kind of token finds its authenticator, and everyone is system:authenticated', async () => {
    const { issuer, verifier, accounts, tokenFile } = setup();
    const authn = createAuthenticator({ tokenFile, verifier, serviceAccounts: accounts });
    expect(await authn.authenticate('admin-token')).toEqual({ name: 'admin', uid: '1', groups: ['system:masters', 'system:authenticated'] });
    expect(await authn.authenticate('sched-token')).toEqual({ name: 'system:kube-scheduler', groups: ['system:authenticated'] });
    const sa = await authn.authenticate(issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' }));
    expect(sa!.name).toBe('system:serviceaccount:default:builder');
    expect(sa!.groups.filter((g) => g === 'system:authenticated')).toHaveLength(1);
    expect((await authn.authenticate(issueNodeToken(issuer, { nodeName: 'n7' })))!.name).toBe('system:node:n7');
  });

  test('an unknown token is UNAUTHENTICATED, and so is a rejected one', async () => {
    const { issuer, verifier, accounts, tokenFile } = setup();
    const authn = createAuthenticator({ tokenFile, verifier, serviceAccounts: accounts });
    const e = await rejection(authn.authenticate('guessed-token'));
    expect(e.message).toBe('invalid bearer token: not a known static token, service account token or node token');
    expect(e.message).not.toContain('guessed');
    const other = new TokenIssuer({ key: generateKeyPairPem().privateKeyPem });
    const forged = issueServiceAccountToken(other, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    expect((await rejection(authn.authenticate(forged))).message).toMatch(/signed by an unknown key/);
    accounts.accounts.clear();
    const orphan = issueServiceAccountToken(issuer, { namespace: 'default', name: 'builder', uid: 'uid-1' });
    expect((await rejection(authn.authenticate(orphan))).message).toMatch(/does not exist/);
  });

  test('bearer metadata parsing', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer  xyz ')).toBe('xyz');
    expect(() => bearerToken('Basic dXNlcjpwYXNz')).toThrow('the authorization metadata must be "Bearer <token>"');
    expect(() => bearerToken('Bearer a b')).toThrow(AuthError);
  });
});
