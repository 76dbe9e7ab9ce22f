import * as grpc from '@grpc/grpc-js';
import { kindFor } from '@k8ts/api';
import { objectKey, resourcePrefix } from '@k8ts/machinery';
import { ApiError } from '../src/errors';
import { decodeContinue, encodeContinue } from '../src/registry/continue';

describe('continue tokens', () => {
  const PODS = kindFor('v1', 'Pod')!;
  const prefix = resourcePrefix(PODS, 'default');
  const web3 = objectKey(PODS, 'default', 'web-3');

  it('round-trip the revision and the last key, opaquely', () => {
    const t = encodeContinue({ rv: 42, start: web3 });
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeContinue(t, prefix)).toEqual({ rv: 42, start: web3 });
    // A token of an all-namespaces list also fits an all-namespaces prefix.
    expect(decodeContinue(t, resourcePrefix(PODS))).toEqual({ rv: 42, start: web3 });
  });

  it('refuses garbage, foreign and tampered tokens with INVALID_ARGUMENT', () => {
    const bad = [
      'not base64 at all!',
      Buffer.from('{"v":"other","rv":1,"start":"/kubernetes.io/pods/default/a"}').toString('base64url'),
      Buffer.from('{"v":"k8ts.io/v1","rv":-1,"start":"/kubernetes.io/pods/default/a"}').toString('base64url'),
      encodeContinue({ rv: 5, start: objectKey(kindFor('v1', 'Secret')!, 'default', 'a') }),
      encodeContinue({ rv: 5, start: `${prefix}../secrets/x` }),
    ];
    for (const t of bad) {
      let err: unknown;
      try {
        decodeContinue(t, prefix);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((err as ApiError).message).toMatch(/^continue key is not valid/);
    }
  });
});
