// The in-memory fake clientset keeps the apiserver's contract where component tests rely
// on it: versions and conflicts, status kept apart from spec, selectors, watches that
// replay from a version, Gone after compaction, paging, subresources, reactors.
import * as grpc from '@grpc/grpc-js';
import type { appsv1, batchv1, corev1 } from '@k8ts/api';
import { ApiError, isAlreadyExists, isConflict, isGone, isInvalid, isNotFound, settle } from '../src';
import { createFakeClientset } from '../src/fake';
import type { WatchEvent } from '../src';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

const pod = (name: string, labels: Record<string, string> = {}): corev1.Pod => ({
  metadata: { namespace: 'default', name, labels },
  spec: { containers: [{ name: 'c', image: 'echo' }] },
});

describe('fake clientset', () => {
  test('create sets identity and version; conflicts and missing objects are the usual errors', async () => {
    const cs = createFakeClientset();
    const created = await cs.pods.create(pod('a'));
    expect(created.metadata).toMatchObject({ namespace: 'default', name: 'a', generation: 1, resourceVersion: '1' });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.kind).toBe('Pod');
    expect(isAlreadyExists(await rejection(cs.pods.create(pod('a'))))).toBe(true);
    expect(isNotFound(await rejection(cs.pods.get('b', { namespace: 'default' })))).toBe(true);
    expect(isInvalid(await rejection(cs.pods.get('a')))).toBe(true);
    const updated = await cs.pods.update({ ...created, metadata: { ...created.metadata, labels: { x: 'y' } } });
    expect(updated.metadata?.resourceVersion).toBe('2');
    expect(isConflict(await rejection(cs.pods.update(created)))).toBe(true); // stale version
    const named = await cs.pods.create({ metadata: { namespace: 'default', generateName: 'web-' } });
    expect(named.metadata?.name).toMatch(/^web-[a-z0-9]+$/);
  });

  test('update keeps status and bumps generation on spec changes; updateStatus changes only status', async () => {
    const cs = createFakeClientset();
    const p = await cs.pods.create(pod('a'));
    const s = await cs.pods.updateStatus({ ...p, spec: {}, status: { phase: 'Running' } });
    expect(s.status?.phase).toBe('Running');
    expect(s.spec?.containers).toHaveLength(1);
    expect(s.metadata?.generation).toBe(1);
    const u = await cs.pods.update({ ...s, spec: { ...s.spec, nodeName: 'n1' }, status: { phase: 'Failed' } });
    expect(u.status?.phase).toBe('Running');
    expect(u.metadata?.generation).toBe(2);
    const same = await cs.pods.update({ ...u, metadata: { ...u.metadata, labels: { a: 'b' } } });
    expect(same.metadata?.generation).toBe(2);
  });

  test('list filters by namespace, labels and fields, in pages', async () => {
    const cs = createFakeClientset();
    for (const n of ['a', 'b', 'c']) await cs.pods.create(pod(n, { app: n === 'c' ? 'db' : 'web' }));
    await cs.pods.create({ metadata: { namespace: 'other', name: 'd', labels: { app: 'web' } } });
    expect((await cs.pods.list({ labelSelector: 'app=web' })).items.map((p) => p.metadata?.name)).toEqual(['a', 'b', 'd']);
    expect((await cs.pods.list({ namespace: 'default', labelSelector: 'app=web' })).items).toHaveLength(2);
    expect((await cs.pods.list({ fieldSelector: 'metadata.name=c' })).items).toHaveLength(1);
    const page = await cs.pods.list({ limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.continue).not.toBe('');
    expect((await cs.pods.listAll({ limit: 1 })).items).toHaveLength(4);
  });

  test('delete honours preconditions', async () => {
    const cs = createFakeClientset();
    const p = await cs.pods.create(pod('a'));
    expect(isConflict(await rejection(cs.pods.delete('a', { namespace: 'default', preconditions: { uid: 'other' } })))).toBe(true);
    const last = await cs.pods.delete('a', { namespace: 'default', preconditions: { uid: p.metadata?.uid } });
    expect(last.metadata?.name).toBe('a');
    expect(cs.tracker.list('pods')).toHaveLength(0);
  });

  test('watches replay from a version, follow selectors, and get Gone after compaction', async () => {
    const cs = createFakeClientset();
    await cs.pods.create(pod('a', { app: 'web' }));
    const rv = cs.tracker.currentRevision();
    const w = cs.pods.watch({ resourceVersion: '0', labelSelector: 'app=web' });
    const seen: string[] = [];
    (async () => {
      for await (const e of w as AsyncIterable<WatchEvent<corev1.Pod>>) seen.push(`${e.type} ${e.object.metadata?.name}`);
    })();
    await settle();
    await cs.pods.create(pod('b', { app: 'db' })); // not selected
    const b = await cs.pods.get('b', { namespace: 'default' });
    await cs.pods.update({ ...b, metadata: { ...b.metadata, labels: { app: 'web' } } }); // enters the selection
    const a = await cs.pods.get('a', { namespace: 'default' });
    await cs.pods.update({ ...a, metadata: { ...a.metadata, labels: { app: 'db' } } }); // leaves it
    await settle();
    expect(seen).toEqual(['ADDED a', 'ADDED b', 'DELETED a']);
    w.stop();

    const replay: string[] = [];
    const w2 = cs.pods.watch({ resourceVersion: rv });
    (async () => {
      for await (const e of w2) replay.push(`${e.type} ${e.object.metadata?.name}`);
    })();
    await settle();
    expect(replay).toEqual(['ADDED b', 'MODIFIED b', 'MODIFIED a']);
    cs.tracker.bookmark();
    w2.stop();

    cs.tracker.compact();
    const err = await (async () => {
      for await (const _ of cs.pods.watch({ resourceVersion: rv })) {
        // nothing
      }
    })().catch((e) => e);
    expect(isGone(err)).toBe(true);
  });

  test('jobs: a typed client with the status subresource, reachable by kind name and through informers', async () => {
    const cs = createFakeClientset();
    const job: batchv1.Job = { metadata: { namespace: 'default', name: 'pi' }, spec: { parallelism: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } } };
    const created = await cs.jobs.create(job);
    expect(created.kind).toBe('Job');
    expect(cs.jobs.kind).toMatchObject({ group: 'batch', resource: 'jobs', namespaced: true });
    const st = await cs.jobs.updateStatus({ ...created, status: { active: 1, succeeded: 0, failed: 0, conditions: [] } });
    expect(st.status?.active).toBe(1);
    expect(cs.forKind('jobs').kind.kind).toBe('Job');
    expect((await cs.jobs.list({ namespace: 'default' })).items.map((j) => j.metadata?.name)).toEqual(['pi']);
  });

  test('bind, scale and logs', async () => {
    const cs = createFakeClientset();
    await cs.pods.create(pod('a'));
    await cs.pods.bind({ metadata: { namespace: 'default', name: 'a' }, target: { kind: 'Node', name: 'n1' } });
    expect((await cs.pods.get('a', { namespace: 'default' })).spec?.nodeName).toBe('n1');
    expect(isConflict(await rejection(cs.pods.bind({ metadata: { namespace: 'default', name: 'a' }, target: { name: 'n2' } })))).toBe(true);
    cs.tracker.setLogs('default', 'a', 'hello\n');
    const chunks: string[] = [];
    for await (const c of cs.pods.logs('a', { namespace: 'default' })) chunks.push(c.toString());
    expect(chunks).toEqual(['hello\n']);

    const d: appsv1.Deployment = { metadata: { namespace: 'default', name: 'web' }, spec: { replicas: 2 } };
    await cs.deployments.create(d);
    const scale = await cs.deployments.getScale('web', { namespace: 'default' });
    expect(scale.spec?.replicas).toBe(2);
    await cs.deployments.updateScale({ ...scale, spec: { replicas: 4 } });
    expect((await cs.deployments.get('web', { namespace: 'default' })).spec?.replicas).toBe(4);
  });

  test('reactors see every call and can fail it; initial objects are stored', async () => {
    const cs = createFakeClientset({ objects: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }] });
    expect((await cs.nodes.get('n1')).metadata?.uid).toBeTruthy();
    const remove = cs.prependReactor((a) => {
      if (a.verb === 'update' && a.resource === 'nodes') throw new ApiError(grpc.status.UNAVAILABLE, 'injected');
    });
    const n = await cs.nodes.get('n1');
    const err = await rejection(cs.nodes.update(n));
    expect((err as ApiError).message).toBe('injected');
    remove();
    await cs.nodes.update(n);
    expect(cs.actions.map((a) => `${a.verb} ${a.resource}`)).toEqual(['get nodes', 'get nodes', 'update nodes', 'update nodes']);
  });
});
