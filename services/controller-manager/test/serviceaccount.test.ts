import type { corev1 } from '@k8ts/api';
import { ServiceAccountController } from '../src/controllers/serviceaccount';
import { harness } from './helpers';

function ns(name: string, phase = 'Active'): corev1.Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase } };
}

describe('service account controller', () => {
  test('every active namespace gets "default", also after it is deleted; terminating ones do not', async () => {
    const h = harness([ns('a'), ns('b'), ns('going', 'Terminating')]);
    const c = new ServiceAccountController(h.ctx);
    await h.start();
    h.run(c);
    const sa = (n: string) => h.cs.tracker.get('serviceaccounts', n, 'default');
    await h.until(() => !!sa('a') && !!sa('b'));
    expect(sa('going')).toBeUndefined();
    await h.cs.namespaces.create(ns('c'));
    await h.until(() => !!sa('c'));
    await h.cs.serviceAccounts.delete('default', { namespace: 'a' });
    await h.until(() => !!sa('a'));
    await h.stop();
  });
});
