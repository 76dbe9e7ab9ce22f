// The client library's informer against a real apiserver that restarts: list, watch from the
// list's revision, keep following across the restart, and converge on the store's state.
import { Informer, connect, listWatchFor } from '@k8ts/client';
import { freePort } from '@k8ts/testkit';
import type { corev1 } from '@k8ts/api';
import { type Apiserver, type Store, eventually, requireBuild, startApiserver, startStore } from './harness';
import { TOKENS, authArgs, authFiles, kind, sample } from './fixtures';

let store: Store;
let apiserver: Apiserver | undefined;
let port: number;
let files: { tokenFile: string; keyFile: string };

beforeAll(async () => {
  requireBuild();
  store = await startStore();
  files = authFiles();
  port = await freePort();
  apiserver = await startApiserver(store, [...authArgs(files), '--listen', `127.0.0.1:${port}`]);
}, 120000);

afterAll(async () => {
  await apiserver?.stop();
  await store?.stop();
});

it('converges after the apiserver restarts', async () => {
  const cs = connect({ address: `127.0.0.1:${port}`, token: TOKENS.admin });
  const informer = new Informer<corev1.Pod>(listWatchFor(cs.pods, { namespace: 'default' }), { name: 'pods' });
  try {
    for (let i = 0; i < 3; i++) await cs.pods.create(sample(kind('Pod'), `before-${i}`, 'default'));
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    expect(informer.lister.list().length).toBe(3);

    await apiserver!.stop();
    apiserver = undefined;
    apiserver = await startApiserver(store, [...authArgs(files), '--listen', `127.0.0.1:${port}`]);
    // The writes go through a fresh connection; the informer's own reconnects by itself.
    const writer = connect({ address: `127.0.0.1:${port}`, token: TOKENS.admin });
    // The channel may still be backing off from the restart: wait until it answers.
    await eventually(() => writer.pods.get('before-1', { namespace: 'default' }), 30000);
    for (let i = 0; i < 3; i++) await writer.pods.create(sample(kind('Pod'), `after-${i}`, 'default'));
    await writer.pods.delete('before-0', { namespace: 'default' });
    writer.close();

    const names = await eventually(() => {
      const n = informer.lister
        .list()
        .map((p) => p.metadata?.name)
        .sort();
      return n.length === 5 && !n.includes('before-0') ? n : undefined;
    }, 60000);
    expect(names).toEqual(['after-0', 'after-1', 'after-2', 'before-1', 'before-2']);
  } finally {
    await informer.stop();
    cs.close();
  }
}, 120000);
