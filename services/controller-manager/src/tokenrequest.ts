// Asking the apiserver for a service-account token (ServiceAccountService.CreateServiceAccountToken),
// so that the signing key never leaves the apiserver. The token controller gets its tokens
// through this interface; unit tests pass an in-memory one.
import * as grpc from '@grpc/grpc-js';
import { corev1 } from '@k8ts/api';
import type { GrpcClientset } from '@k8ts/client';
import { toApiError } from '@k8ts/client';

export interface TokenRequester {
  /**
   * A token of the service account `namespace/name` without expiry, bound to `bound` (a
   * Secret: deleting it, or the account, revokes the token).
   */
  createToken(namespace: string, name: string, bound: corev1.ObjectReference): Promise<string>;
}

/** A TokenRequester over the clientset's own gRPC channel, with its bearer token. */
export function grpcTokenRequester(
  cs: GrpcClientset,
  bearer: () => string | undefined | Promise<string | undefined>,
  deadlineMs = 30_000,
): TokenRequester {
  const client = new corev1.ServiceAccountServiceClient(cs.address, grpc.credentials.createInsecure(), { channelOverride: cs.channel });
  return {
    async createToken(namespace, name, bound) {
      const md = new grpc.Metadata();
      const token = await bearer();
      if (token) md.set('authorization', `Bearer ${token}`);
      const request: corev1.CreateServiceAccountTokenRequest = { namespace, name, audiences: [], boundObjectRef: bound };
      return new Promise<string>((resolve, reject) => {
        client.createServiceAccountToken(request, md, { deadline: new Date(Date.now() + deadlineMs) }, (err, res) => {
          if (err) reject(toApiError(err));
          else if (!res?.token) reject(new Error(`the apiserver issued no token for ${namespace}/${name}`));
          else resolve(res.token);
        });
      });
    },
  };
}
