// The gRPC side of delegated authentication and authorization: a server interceptor (for the
// kit's startServer `interceptors`) that checks every call before its handler runs, as the
// kubelet's auth filter checks every request of its API:
// 1. methods listed as always allowed (health checks) pass untouched;
// 2. the caller is authenticated from its verified client certificate and its
//    "authorization" metadata; nobody recognised: UNAUTHENTICATED "Unauthorized";
// 3. the call's attributes are built from its method and its first request message (so that
//    a call about a pod can be authorized against the pod's node), then authorized:
//    refused: PERMISSION_DENIED with Kubernetes' message (the kubelet's
//    `Forbidden (user=…, verb=…, resource=…, subresource=…)`); the authorizer failing:
//    INTERNAL `Authorization error (…)`.
// The check runs when the first request message arrives (or the client's end of stream, for a
// call that sends none); until it is allowed neither reaches the handler, so a refused call
// never runs it.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../logger';
import { noopLogger } from '../logger';
import { AuthenticationError, type RequestAttributes, type RequestAuthenticator, type RequestAuthorizer, type UserInfo } from './types';

export interface CallGuardOptions {
  authenticator: RequestAuthenticator;
  authorizer: RequestAuthorizer;
  /** The attributes of a call: its method path ('/k8ts.kubelet.v1.KubeletService/GetContainerLogs') and first request (undefined when none). */
  attributes(method: string, request: unknown): RequestAttributes;
  /** Methods anyone may call unauthenticated: full paths, or service prefixes ending in '/'. */
  alwaysAllow?: readonly string[];
  /** The PERMISSION_DENIED message; default forbiddenMessage. */
  forbidden?: (user: UserInfo, attrs: RequestAttributes) => string;
  logger?: Logger;
}

/** Health checks stay open, as the kubelet's healthz port and kube-scheduler's always-allowed /healthz. */
export const HEALTH_METHODS = ['/grpc.health.v1.Health/'] as const;

/**
 * Kubernetes' refusal: the kubelet's for a resource request, the generic apiserver's for a
 * non-resource one.
 */
export function forbiddenMessage(user: UserInfo, attrs: RequestAttributes): string {
  if (attrs.kind === 'nonResource') return `forbidden: User "${user.name}" cannot ${attrs.verb} path "${attrs.path}"`;
  return `Forbidden (user=${user.name}, verb=${attrs.verb}, resource=${attrs.resource}, subresource=${attrs.subresource})`;
}

/** The kubelet's answer when the authorizer could not decide. */
function authorizationErrorMessage(user: UserInfo, attrs: RequestAttributes, err: unknown): string {
  const what =
    attrs.kind === 'nonResource'
      ? `user=${user.name}, verb=${attrs.verb}, path=${attrs.path}`
      : `user=${user.name}, verb=${attrs.verb}, resource=${attrs.resource}, subresource=${attrs.subresource}`;
  return `Authorization error (${what}): ${(err as Error).message}`;
}

function isAlwaysAllowed(method: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => (a.endsWith('/') ? method.startsWith(a) : method === a));
}

/** A refusal: the status the call ends with. */
class Refusal {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {}
}

/** The credentials a call presents: its verified client certificate and its authorization metadata. */
function credentialsOf(call: grpc.ServerInterceptingCallInterface, metadata: grpc.Metadata | undefined) {
  const raw = metadata?.get('authorization')[0];
  return {
    peerCertificate: call.getAuthContext()?.sslPeerCertificate,
    authorization: typeof raw === 'string' ? raw : raw?.toString(),
  };
}

/** Authenticates and authorizes one call; resolves to the refusal, or undefined when allowed. */
async function check(opts: CallGuardOptions, method: string, call: grpc.ServerInterceptingCallInterface, metadata: grpc.Metadata | undefined, request: unknown): Promise<Refusal | undefined> {
  const logger = opts.logger ?? noopLogger;
  let user: UserInfo | undefined;
  try {
    user = await opts.authenticator.authenticate(credentialsOf(call, metadata));
  } catch (err) {
    if (!(err instanceof AuthenticationError)) throw err;
    logger.info({ method, peer: call.getPeer(), reason: err.message }, 'unauthenticated call refused');
    return new Refusal(grpc.status.UNAUTHENTICATED, `Unauthorized: ${err.message}`);
  }
  if (!user) return new Refusal(grpc.status.UNAUTHENTICATED, 'Unauthorized: no client certificate of the client CA and no bearer token');
  const attrs = opts.attributes(method, request);
  try {
    const d = await opts.authorizer.authorize(user, attrs);
    if (d.allowed) return undefined;
    const message = (opts.forbidden ?? forbiddenMessage)(user, attrs);
    logger.info({ method, user: user.name, reason: d.reason }, message);
    return new Refusal(grpc.status.PERMISSION_DENIED, message);
  } catch (err) {
    const message = authorizationErrorMessage(user, attrs, err);
    logger.error({ method, user: user.name, err }, message);
    return new Refusal(grpc.status.INTERNAL, message);
  }
}

/** The interceptor that authenticates and authorizes every call (see the top of this file). */
export function callGuard(opts: CallGuardOptions): grpc.ServerInterceptor {
  const open = opts.alwaysAllow ?? HEALTH_METHODS;
  return (method, call) => {
    if (isAlwaysAllowed(method.path, open)) return new grpc.ServerInterceptingCall(call);
    let metadata: grpc.Metadata | undefined;
    let verdict: Promise<boolean> | undefined;
    /** Runs the check once; resolves true when the call may go on (else its status was sent). */
    const allowed = (request: unknown) =>
      (verdict ??= check(opts, method.path, call, metadata, request).then(
        (refusal) => {
          if (!refusal) return true;
          call.sendStatus({ code: refusal.code, details: refusal.details, metadata: new grpc.Metadata() });
          return false;
        },
        (err: unknown) => {
          call.sendStatus({ code: grpc.status.INTERNAL, details: `checking the caller failed: ${(err as Error).message}`, metadata: new grpc.Metadata() });
          return false;
        },
      ));
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (md, pass) => {
            metadata = md;
            pass(md);
          },
          onReceiveMessage: (message, pass) => {
            void allowed(message).then((ok) => ok && pass(message));
          },
          onReceiveHalfClose: (pass) => {
            void allowed(undefined).then((ok) => ok && pass());
          },
        }),
    });
  };
}
