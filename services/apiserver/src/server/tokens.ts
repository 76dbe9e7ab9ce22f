// serviceaccounts/token: CreateServiceAccountToken issues a JWT for a service account, signed
// with the apiserver's key (--service-account-key-file), so that the key never leaves the
// apiserver. A token may be bound to a Secret or a Pod of the account's namespace: deleting
// that object revokes it (the service-account authenticator checks on every request).
import * as grpc from '@grpc/grpc-js';
import { type corev1, kindFor } from '@k8ts/api';
import { issueServiceAccountToken } from '../auth';
import { ApiError, conflict, invalid } from '../errors';
import type { Registry } from '../registry/registry';
import type { Security } from './security';

const SERVICE_ACCOUNTS = kindFor('v1', 'ServiceAccount')!;
const BINDABLE: Record<string, ReturnType<typeof kindFor>> = { Pod: kindFor('v1', 'Pod'), Secret: kindFor('v1', 'Secret') };

/** The shortest lifetime a token may ask for, as Kubernetes' TokenRequest. */
export const MIN_TOKEN_SECONDS = 600;

export async function createServiceAccountToken(
  registry: Registry,
  security: Security,
  req: corev1.CreateServiceAccountTokenRequest,
): Promise<corev1.CreateServiceAccountTokenResponse> {
  if (!security.issuer) {
    throw new ApiError(grpc.status.FAILED_PRECONDITION, 'ServiceUnavailable', 503, 'this apiserver cannot issue tokens: it was started without --service-account-key-file');
  }
  const namespace = req.namespace || 'default';
  const name = req.name ?? '';
  const errs = [];
  const exp = req.expirationSeconds;
  if (exp !== undefined && exp < MIN_TOKEN_SECONDS) {
    errs.push({ field: 'expirationSeconds', type: 'FieldValueInvalid', message: `Invalid value: ${exp}: may not specify a duration less than 10 minutes` });
  }
  const ref = req.boundObjectRef;
  const bindKind = ref?.kind ? BINDABLE[ref.kind] : undefined;
  if (ref?.kind && !bindKind) {
    errs.push({ field: 'boundObjectRef.kind', type: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: "Pod", "Secret"` });
  }
  if (ref?.kind && !ref.name) errs.push({ field: 'boundObjectRef.name', type: 'FieldValueRequired', message: 'Required value' });
  if (errs.length > 0) throw invalid('TokenRequest', 'authentication.k8s.io', name, errs);
  const sa = (await registry.get(SERVICE_ACCOUNTS, namespace, name)) as corev1.ServiceAccount;
  let bound: { name: string; uid: string } | undefined;
  if (bindKind && ref?.name) {
    const obj = await registry.get(bindKind, namespace, ref.name);
    const uid = obj.metadata?.uid ?? '';
    if (ref.uid && ref.uid !== uid) {
      throw conflict(bindKind.resource, '', ref.name, `the uid in boundObjectRef (${ref.uid}) does not match the object's (${uid})`);
    }
    bound = { name: ref.name, uid };
  }
  const token = issueServiceAccountToken(security.issuer, {
    namespace,
    name,
    uid: sa.metadata?.uid ?? '',
    audiences: req.audiences && req.audiences.length > 0 ? req.audiences : undefined,
    expirationSeconds: exp,
    secret: ref?.kind === 'Secret' ? bound : undefined,
    pod: ref?.kind === 'Pod' ? bound : undefined,
  });
  const expiration = exp !== undefined ? new Date(Math.floor(Date.now() / 1000) * 1000 + exp * 1000).toISOString().replace('.000Z', 'Z') : undefined;
  return { token, expirationTimestamp: expiration };
}
