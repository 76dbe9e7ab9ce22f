import { connect, StringCodec } from 'nats';
import { startNats, startNatsCluster, NatsServer, NatsCluster } from '@k8ts/testkit';

describe('testkit nats harness', () => {
  let single: NatsServer | undefined;
  let cluster: NatsCluster | undefined;
  afterAll(async () => {
    await single?.stop();
    await cluster?.stop();
  });

  test('a single JetStream server keeps a stream across a restart', async () => {
    single = await startNats();
    expect(single.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(single.port).not.toBe(4222);
    let nc = await connect({ servers: single.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'T', subjects: ['t.>'] });
    const js = nc.jetstream();
    const ack = await js.publish('t.a', StringCodec().encode('hello'));
    expect(ack.seq).toBe(1);
    await nc.close();

    await single.restart();
    nc = await connect({ servers: single.url });
    const msg = await (await nc.jetstreamManager()).streams.getMessage('T', { seq: 1 });
    expect(StringCodec().decode(msg.data)).toBe('hello');
    await nc.close();
  });

  test('a three-server cluster takes R3 streams and survives the loss of one server', async () => {
    cluster = await startNatsCluster(3);
    expect(cluster.urls).toHaveLength(3);
    const nc = await connect({ servers: cluster.urls });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'R', subjects: ['r.>'], num_replicas: 3 });
    const js = nc.jetstream();
    await js.publish('r.x', StringCodec().encode('1'));
    const info = await jsm.streams.info('R');
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);

    // Crash one server that is neither the stream's leader nor the one this client uses: the
    // stream keeps a quorum (2 of 3) and takes writes.
    const leader = info.cluster?.leader;
    const victim = cluster.servers.find((s) => `k8ts-n${cluster!.servers.indexOf(s)}` !== leader && !nc.getServer().endsWith(`:${s.port}`))!;
    expect(victim).toBeDefined();
    victim.kill('SIGKILL');
    const ack = await js.publish('r.x', StringCodec().encode('2'), { timeout: 20000 });
    expect(ack.seq).toBe(2);
    await victim.restart();
    await nc.close();
  });
});
