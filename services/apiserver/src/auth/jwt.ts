// The JWT (compact JWS) format of the tokens the apiserver's key signs. It lives in @k8ts/kit
// (packages/kit/src/jwt.ts) because `k8ts up` mints node tokens in the same format; this
// module re-exports it for the apiserver's authenticators.
export {
  JwtError,
  audiencesOf,
  checkTimes,
  decodeJwt,
  generateKeyPairPem,
  keyId,
  loadSigningKey,
  loadVerificationKeys,
  looksLikeJwt,
  signJwt,
  verifySignature,
} from '@k8ts/kit';
export type { DecodedJwt, JwtAlgorithm, JwtClaims, SigningKey, VerificationKey } from '@k8ts/kit';
