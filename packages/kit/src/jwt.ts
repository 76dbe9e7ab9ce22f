// Compact JWS (JSON Web Tokens) signed with the apiserver's key: RS256 (RSA PKCS#1 v1.5,
// SHA-256, at least 2048 bits) or ES256 (ECDSA P-256, SHA-256, signature as r||s), with only
// Node's crypto. The one implementation of the token format: the apiserver signs and verifies
// with it, and `k8ts up` signs node tokens with it (tokens.ts has the k8ts claims).
//
// Header: {alg, kid, typ: "JWT"}, kid = base64url(SHA-256(SPKI DER of the public key)), as
// Kubernetes derives it. Verification never trusts the header's algorithm on its own: the
// algorithm must be one of the two above and must match the type of the key that verifies it
// ("none", HMAC and algorithm confusion are rejected).
import * as crypto from 'node:crypto';

export type JwtAlgorithm = 'RS256' | 'ES256';

/** A private key that signs tokens. */
export interface SigningKey {
  alg: JwtAlgorithm;
  /** Key id written in the token header: the base64url SHA-256 of the public key (SPKI DER). */
  kid: string;
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
}

/** A public key that verifies tokens. */
export interface VerificationKey {
  alg: JwtAlgorithm;
  kid: string;
  publicKey: crypto.KeyObject;
}

/** Why a token failed verification. The message never contains the token. */
export class JwtError extends Error {
  constructor(
    readonly code: 'malformed' | 'algorithm' | 'signature' | 'expired' | 'not-yet-valid' | 'issuer' | 'audience',
    message: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

/** The registered claims k8ts reads; other claims pass through. */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

function algorithmOf(key: crypto.KeyObject): JwtAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`RSA signing keys must have at least 2048 bits, this one has ${bits}`);
    return 'RS256';
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1') throw new Error(`EC signing keys must be on curve P-256 (ES256), this one is on ${curve}`);
    return 'ES256';
  }
  throw new Error(`unsupported key type ${type ?? 'unknown'}: use an RSA (RS256) or EC P-256 (ES256) key`);
}

/** The key id of a public key: base64url(SHA-256(SPKI DER)), as Kubernetes derives it. */
export function keyId(publicKey: crypto.KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('base64url');
}

/** Reads a PEM private key (PKCS#8, PKCS#1 or SEC1) for signing. */
export function loadSigningKey(pem: string): SigningKey {
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(pem);
  } catch (e) {
    throw new Error(`cannot read the signing key: not a PEM private key (${(e as Error).message})`, { cause: e });
  }
  const publicKey = crypto.createPublicKey(privateKey);
  return { alg: algorithmOf(privateKey), kid: keyId(publicKey), privateKey, publicKey };
}

/**
 * Reads verification keys from PEM text: every PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE or private
 * key block in the text (a private key contributes its public half), so one file may hold the
 * current and the previous key during a rotation.
 */
export function loadVerificationKeys(pem: string | string[]): VerificationKey[] {
  const texts = Array.isArray(pem) ? pem : [pem];
  const keys: VerificationKey[] = [];
  const block = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (const text of texts) {
    for (const m of text.matchAll(block)) {
      const label = m[1];
      if (label === 'EC PARAMETERS') continue; // emitted by openssl ecparam before an EC PRIVATE KEY
      let publicKey: crypto.KeyObject;
      try {
        if (label.includes('PRIVATE KEY')) publicKey = crypto.createPublicKey(crypto.createPrivateKey(m[0]));
        else if (label === 'CERTIFICATE') publicKey = new crypto.X509Certificate(m[0]).publicKey;
        else publicKey = crypto.createPublicKey(m[0]);
      } catch (e) {
        throw new Error(`cannot read a "${label}" PEM block as a key: ${(e as Error).message}`, { cause: e });
      }
      keys.push({ alg: algorithmOf(publicKey), kid: keyId(publicKey), publicKey });
    }
  }
  if (keys.length === 0) throw new Error('no PEM key found (expected a PUBLIC KEY or PRIVATE KEY block)');
  return keys;
}

/**
 * Generates a signing key pair as PEM: the private key in PKCS#8, the public key in SPKI. ES256
 * (the default) gives small keys and fast generation; RS256 uses 2048-bit RSA like kubeadm's
 * sa.key.
 */
export function generateKeyPairPem(alg: JwtAlgorithm = 'ES256'): { privateKeyPem: string; publicKeyPem: string } {
  const pair =
    alg === 'RS256'
      ? crypto.generateKeyPairSync('rsa', {
          modulusLength: 2048,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        })
      : crypto.generateKeyPairSync('ec', {
          namedCurve: 'P-256',
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        });
  return { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function signOptions(key: crypto.KeyObject, alg: JwtAlgorithm): crypto.KeyObject | crypto.SignKeyObjectInput {
  return alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
}

/** Signs claims into a compact JWS. */
export function signJwt(key: SigningKey, claims: JwtClaims): string {
  const input = `${b64json({ alg: key.alg, kid: key.kid, typ: 'JWT' })}.${b64json(claims)}`;
  const signature = crypto.sign('sha256', Buffer.from(input), signOptions(key.privateKey, key.alg) as crypto.SignKeyObjectInput);
  return `${input}.${signature.toString('base64url')}`;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** The parts of a compact JWS, decoded but not verified. */
export interface DecodedJwt {
  header: { alg?: unknown; kid?: unknown; typ?: unknown };
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

function parseJsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed', `the token's ${what} is not base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtError('malformed', `the token's ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** True when the text has the shape of a compact JWS (three base64url parts). Cheap; no verification. */
export function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every((p) => p.length > 0 && B64URL.test(p));
}

/** Decodes a compact JWS without verifying it. Throws JwtError('malformed'). */
export function decodeJwt(token: string): DecodedJwt {
  if (!looksLikeJwt(token)) throw new JwtError('malformed', 'the token is not a compact JWT (three base64url parts)');
  const [h, p, s] = token.split('.');
  return {
    header: parseJsonPart(h, 'header'),
    claims: parseJsonPart(p, 'payload') as JwtClaims,
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

/** Checks the signature of a decoded token against the keys (by kid when the header has one). */
export function verifySignature(jwt: DecodedJwt, keys: readonly VerificationKey[]): void {
  const alg = jwt.header.alg;
  if (alg !== 'RS256' && alg !== 'ES256') {
    throw new JwtError('algorithm', `the token's algorithm ${JSON.stringify(alg)} is not accepted (RS256 or ES256)`);
  }
  const kid = typeof jwt.header.kid === 'string' ? jwt.header.kid : undefined;
  const candidates = keys.filter((k) => k.alg === alg && (kid === undefined || k.kid === kid));
  if (candidates.length === 0) {
    throw new JwtError('signature', 'the token is signed by an unknown key');
  }
  const data = Buffer.from(jwt.signingInput);
  for (const k of candidates) {
    if (crypto.verify('sha256', data, signOptions(k.publicKey, k.alg) as crypto.VerifyKeyObjectInput, jwt.signature)) return;
  }
  throw new JwtError('signature', 'the token signature is invalid');
}

/** Audiences of a token as a list. */
export function audiencesOf(claims: JwtClaims): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  if (Array.isArray(claims.aud)) return claims.aud.filter((a): a is string => typeof a === 'string');
  return [];
}

/**
 * Checks the time claims against `nowSeconds` with `leewaySeconds` of clock skew: exp (when
 * present) must be in the future, nbf (when present) in the past.
 */
export function checkTimes(claims: JwtClaims, nowSeconds: number, leewaySeconds: number): void {
  if (claims.exp !== undefined) {
    if (typeof claims.exp !== 'number') throw new JwtError('malformed', 'the token claim "exp" is not a number');
    if (nowSeconds > claims.exp + leewaySeconds) {
      throw new JwtError('expired', `the token expired at ${new Date(claims.exp * 1000).toISOString()}`);
    }
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== 'number') throw new JwtError('malformed', 'the token claim "nbf" is not a number');
    if (nowSeconds + leewaySeconds < claims.nbf) {
      throw new JwtError('not-yet-valid', `the token is not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
    }
  }
}
