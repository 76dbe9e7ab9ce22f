// Smoke test of the store on a three-node JetStream cluster (R3 stream and bucket): two
// store replicas take writes; losing one NATS server is survived; losing two makes writes
// fail with UNAVAILABLE, and they succeed again once the servers are back.
import { startNatsCluster } from '@k8ts/testkit';
import type { NatsCluster } from '@k8ts/testkit';
import { etcdctl, eventually, startStore, StoreProcess } from './harness';

jest.setTimeout(180_000);

describe('store on a 3-node JetStream cluster', () => {
  let cluster: NatsCluster | undefined;
  let s1: StoreProcess | undefined;
  let s2: StoreProcess | undefined;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    const urls = cluster.urls.join(',');
    s1 = await startStore(urls, ['--replicas', '3', '--jetstream-timeout', '2s', '--name', 'c1']);
    s2 = await startStore(urls, ['--replicas', '3', '--jetstream-timeout', '2s', '--name', 'c2']);
  });
  afterAll(async () => {
    await Promise.all([s1?.stop(), s2?.stop()]);
    await cluster?.stop();
  });

  const put = async (ep: string, k: string, v: string) => (await etcdctl(ep, ['put', k, v])).stdout.trim() === 'OK';
  const get = async (ep: string, k: string) => (await etcdctl(ep, ['get', k, '--print-value-only'])).stdout.trim();

  it('replicates, survives one server, refuses writes without a quorum, and recovers', async () => {
    expect(await put(s1!.endpoint, '/c/a', '1')).toBe(true);
    expect(await get(s2!.endpoint, '/c/a')).toBe('1');

    cluster!.servers[0].kill('SIGKILL');
    await eventually(async () => put(s2!.endpoint, '/c/b', '2'), 90_000, 'write with one NATS server down');
    await eventually(async () => (await get(s1!.endpoint, '/c/b')) === '2', 90_000, 'read on the other replica');

    cluster!.servers[1].kill('SIGKILL');
    const r = await etcdctl(s1!.endpoint, ['put', '/c/c', '3'], undefined, 60_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unavailable desc = store: write not acknowledged/);

    await Promise.all([cluster!.servers[0].restart(), cluster!.servers[1].restart()]);
    await eventually(async () => put(s1!.endpoint, '/c/d', '4'), 120_000, 'writes after the quorum is back');
    expect(await get(s2!.endpoint, '/c/a')).toBe('1');
    expect(await get(s2!.endpoint, '/c/b')).toBe('2');
    expect(await get(s2!.endpoint, '/c/d')).toBe('4');
  });
});
