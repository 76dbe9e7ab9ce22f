// The token format shared by the apiserver and `k8ts up`: compact JWS with ES256 and RS256,
// the header's kid, the wire format of tokens minted before the format moved here (they
// must keep verifying), the refusals (algorithm confusion, unknown keys, tampering, weak
// keys), time checks, and the k8ts claims of TokenIssuer and node tokens.
import * as crypto from 'node:crypto';
import {
  DEFAULT_AUDIENCE,
  DEFAULT_ISSUER,
  JwtError,
  TokenIssuer,
  checkTimes,
  decodeJwt,
  generateKeyPairPem,
  issueNodeToken,
  k8tsClaim,
  keyId,
  loadSigningKey,
  loadVerificationKeys,
  looksLikeJwt,
  nodeUsername,
  signJwt,
  verifySignature,
} from '../src';

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const spkiHash = (publicKeyPem: string) =>
  crypto.createHash('sha256').update(crypto.createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' })).digest('base64url');

/** An ES256 token built by hand, byte for byte as `k8ts up` minted node tokens before sharing this code. */
function handMadeEs256(privateKeyPem: string, claims: Record<string, unknown>): string {
  const key = crypto.createPrivateKey(privateKeyPem);
  const kid = crypto.createHash('sha256').update(crypto.createPublicKey(key).export({ type: 'spki', format: 'der' })).digest('base64url');
  const input = `${b64json({ alg: 'ES256', kid, typ: 'JWT' })}.${b64json(claims)}`;
  const signature = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const es = generateKeyPairPem('ES256');
const rs = generateKeyPairPem('RS256');

describe('compact JWS', () => {
  test.each([
    ['ES256', es],
    ['RS256', rs],
  ] as const)('%s: signs with header {alg, kid, typ} and verifies with the public key', (alg, pair) => {
    const key = loadSigningKey(pair.privateKeyPem);
    expect(key.alg).toBe(alg);
    expect(key.kid).toBe(spkiHash(pair.publicKeyPem));
    expect(keyId(key.publicKey)).toBe(key.kid);
    const token = signJwt(key, { sub: 'x', iat: 1 });
    expect(looksLikeJwt(token)).toBe(true);
    const jwt = decodeJwt(token);
    expect(jwt.header).toEqual({ alg, kid: key.kid, typ: 'JWT' });
    expect(jwt.claims).toEqual({ sub: 'x', iat: 1 });
    expect(() => verifySignature(jwt, loadVerificationKeys(pair.publicKeyPem))).not.toThrow();
    // ES256 signatures are r||s (64 bytes), as JWS wants, not DER.
    if (alg === 'ES256') expect(jwt.signature).toHaveLength(64);
  });

  test('the wire format is unchanged: tokens minted by hand the old way verify, and new ones have the same header and payload', () => {
    const claims = { iss: 'k8ts', sub: 'system:node:n1', aud: ['k8ts'], iat: 1767225600, nbf: 1767225600, jti: 'fixed', k8ts: { node: { name: 'n1' } } };
    const old = handMadeEs256(es.privateKeyPem, claims);
    expect(() => verifySignature(decodeJwt(old), loadVerificationKeys(es.publicKeyPem))).not.toThrow();
    const fresh = signJwt(loadSigningKey(es.privateKeyPem), claims);
    expect(fresh.split('.').slice(0, 2)).toEqual(old.split('.').slice(0, 2));
  });

  test('refuses other algorithms, unknown keys, a key of the wrong type and tampering', () => {
    const keys = loadVerificationKeys(es.publicKeyPem);
    const token = signJwt(loadSigningKey(es.privateKeyPem), { sub: 'a' });
    const [h, p, s] = token.split('.');
    const code = (t: string, k = keys) => {
      try {
        verifySignature(decodeJwt(t), k);
      } catch (e) {
        return (e as JwtError).code;
      }
      return 'ok';
    };
    expect(code(`${b64json({ alg: 'none', typ: 'JWT' })}.${p}.${s}`)).toBe('algorithm');
    expect(code(`${b64json({ alg: 'HS256', typ: 'JWT' })}.${p}.${s}`)).toBe('algorithm');
    expect(code(`${h}.${b64json({ sub: 'admin' })}.${s}`)).toBe('signature');
    expect(code(token, loadVerificationKeys(generateKeyPairPem('ES256').publicKeyPem))).toBe('signature');
    // An ES256 header checked against an RSA key: no candidate key, never an RSA verification.
    expect(code(token, loadVerificationKeys(rs.publicKeyPem))).toBe('signature');
    expect(code(token)).toBe('ok');
    expect(() => decodeJwt('a.b')).toThrow(JwtError);
  });

  test('one PEM text may hold several keys (a rotation); weak or unsupported keys are refused', () => {
    const both = loadVerificationKeys(`${es.publicKeyPem}\n${rs.privateKeyPem}`);
    expect(both.map((k) => k.alg)).toEqual(['ES256', 'RS256']);
    const weak = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadSigningKey(weak)).toThrow(/at least 2048 bits/);
    const p384 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadSigningKey(p384)).toThrow(/P-256/);
    expect(() => loadSigningKey('not a key')).toThrow(/not a PEM private key/);
    expect(() => loadVerificationKeys('nothing here')).toThrow(/no PEM key/);
  });

  test('exp and nbf are checked with leeway', () => {
    expect(() => checkTimes({ exp: 100 }, 160, 60)).not.toThrow();
    expect(() => checkTimes({ exp: 100 }, 161, 60)).toThrow(expect.objectContaining({ code: 'expired' }));
    expect(() => checkTimes({ nbf: 100 }, 40, 60)).not.toThrow();
    expect(() => checkTimes({ nbf: 100 }, 39, 60)).toThrow(expect.objectContaining({ code: 'not-yet-valid' }));
    expect(() => checkTimes({ exp: '100' as unknown as number }, 0, 0)).toThrow(expect.objectContaining({ code: 'malformed' }));
  });
});

describe('k8ts tokens', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  test('TokenIssuer fills iss, aud, iat, nbf, jti, the k8ts claim, and exp only when asked', () => {
    const issuer = new TokenIssuer({ key: es.privateKeyPem, now: () => now });
    const forever = decodeJwt(issuer.issue({ sub: 's', k8ts: { a: 1 } })).claims;
    expect(forever).toMatchObject({ iss: DEFAULT_ISSUER, sub: 's', aud: [DEFAULT_AUDIENCE], iat: now / 1000, nbf: now / 1000, k8ts: { a: 1 } });
    expect(forever.exp).toBeUndefined();
    expect(forever.jti).toMatch(/^[0-9a-f-]{36}$/);
    const bounded = decodeJwt(issuer.issue({ sub: 's', audiences: ['other'], expirationSeconds: 600, k8ts: {} })).claims;
    expect(bounded).toMatchObject({ aud: ['other'], exp: now / 1000 + 600 });
    expect(() => issuer.issue({ sub: 's', expirationSeconds: 0, k8ts: {} })).toThrow(/expirationSeconds/);
    expect(() => new TokenIssuer({ key: es.privateKeyPem, audiences: [] })).toThrow(/audience/);
  });

  test('a node token names the node in sub and in the k8ts claim, and is signed by the key', () => {
    const issuer = new TokenIssuer({ key: es.privateKeyPem, now: () => now });
    const token = issueNodeToken(issuer, { nodeName: 'node-2' });
    const jwt = decodeJwt(token);
    expect(jwt.header).toEqual({ alg: 'ES256', kid: spkiHash(es.publicKeyPem), typ: 'JWT' });
    expect(jwt.claims).toMatchObject({ iss: 'k8ts', aud: ['k8ts'], sub: 'system:node:node-2', iat: 1767225600, nbf: 1767225600 });
    expect(k8tsClaim(jwt.claims)).toEqual({ node: { name: 'node-2' } });
    expect(nodeUsername('node-2')).toBe(jwt.claims.sub);
    expect(() => verifySignature(jwt, loadVerificationKeys(es.publicKeyPem))).not.toThrow();
    for (const bad of ['', 'a:b', 'a b']) expect(() => issueNodeToken(issuer, { nodeName: bad })).toThrow(/nodeName: invalid node name/);
  });
});
