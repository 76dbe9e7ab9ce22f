// A k8ts/echo pod over the process runtime: a real child process on its own loopback pod IP,
// reached over real HTTP; its environment, events, logs and status.
import * as fs from 'fs';
import { cidrContains } from '@k8ts/testkit';
import { PodLogError, readLog, staticEnvSource } from '../src';
import { condition, containerStatus, echoContainer, eventually, makePod, request, TestNode } from './process-harness';

const node = new TestNode({
  envSource: staticEnvSource({ 'default/settings': { GREETING: 'hello', 'bad key': 'skipped' } }, { 'default/creds': { PASSWORD: 's3cret' } }),
});

beforeAll(() => node.start());
afterAll(() => node.close());

describe('k8ts/echo on the process runtime', () => {
  const pod = makePod(
    node,
    'echo-1',
    {
      serviceAccountName: 'default',
      containers: [
        echoContainer({
          env: [
            { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'MY_APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: { value: '1Mi' } } } },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
            { name: 'URL', value: 'http://$(MY_IP):$(PORT)/' },
          ],
          envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CM_' }],
          resources: { limits: { memory: { value: '256Mi' } } },
        }),
      ],
    },
  );

  it('runs the pod and reports it Running and Ready with its IP', async () => {
    node.run(pod);
    const s = await node.waitStatus(pod, (st) => st.phase === 'Running' && condition(st, 'Ready') === 'True', 'Running and Ready');
    expect(cidrContains(node.podCIDR, s.podIP!)).toBe(true);
    expect(s.podIPs).toEqual([{ ip: s.podIP }]);
    expect(s.hostIP).toBe(node.ip);
    expect(s.startTime).toBeTruthy();
    expect(s.qosClass).toBe('Burstable');
    const cs = containerStatus(s, 'web')!;
    expect(cs).toMatchObject({ ready: true, started: true, restartCount: 0, image: 'k8ts/echo' });
    expect(cs.containerID).toMatch(/^process:\/\/[0-9a-f]{32}$/);
    expect(cs.imageID).toMatch(/^sha256:/);
    expect(cs.state?.running?.startedAt).toBeTruthy();
    for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready', 'PodReadyToStartContainers']) {
      expect(condition(s, type)).toBe('True');
    }
  });

  it('answers HTTP on its pod IP with its name', async () => {
    const ip = node.status(pod)!.podIP!;
    const res = await eventually(() => request('GET', `http://${ip}:8080/`), 'the echo server');
    expect(res).toEqual({ status: 200, body: 'echo-1\n' });
    const info = JSON.parse((await request('GET', `http://${ip}:8080/info`)).body);
    expect(info).toMatchObject({ pod: 'echo-1', namespace: 'default', ip, port: 8080, node: node.name, hostname: 'echo-1' });
  });

  it('has the environment of its spec: downward API, resources, ConfigMap, Secret, K8TS_*', async () => {
    const ip = node.status(pod)!.podIP!;
    const names = 'MY_POD,MY_IP,MY_APP,MY_NODE,MEM_MI,PASSWORD,URL,CM_GREETING';
    const env = JSON.parse((await request('GET', `http://${ip}:8080/env?names=${names}`)).body);
    expect(env).toMatchObject({
      MY_POD: 'echo-1',
      MY_IP: ip,
      MY_APP: 'echo-1',
      MY_NODE: node.name,
      MEM_MI: '256',
      PASSWORD: 's3cret',
      URL: `http://${ip}:8080/`,
      CM_GREETING: 'hello',
      K8TS_POD_IP: ip,
      K8TS_POD_NAME: 'echo-1',
      K8TS_POD_NAMESPACE: 'default',
      K8TS_NODE_NAME: node.name,
      K8TS_PORT_HTTP: '8080',
      PORT: '8080',
    });
  });

  it('emitted Pulled, Created and Started events for the container', () => {
    const reasons = node.events.of(pod.metadata!.uid!).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Pulled', 'Created', 'Started']));
    expect(reasons.indexOf('Pulled')).toBeLessThan(reasons.indexOf('Created'));
    expect(reasons.indexOf('Created')).toBeLessThan(reasons.indexOf('Started'));
    const started = node.events.of(pod.metadata!.uid!, 'Started')[0];
    expect(started.fieldPath).toBe('spec.containers{web}');
  });

  it('writes its output to a log file per pod, container and restart, with timestamps', async () => {
    const id = containerStatus(node.status(pod), 'web')!.containerID!.replace('process://', '');
    const files = node.runtime.logFiles(id);
    expect(files[files.length - 1]).toMatch(/\/pods\/default_echo-1_[0-9a-f-]+\/web\/0\.log$/);
    const lines = await eventually((): string[] | undefined => {
      const l = readLog(files, { timestamps: true });
      return l.some((x) => x.includes('GET /env 200')) ? l : undefined;
    }, 'the request lines in the log');
    expect(lines.some((l) => l.includes('listening on http://'))).toBe(true);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
    expect(readLog(files, { tailLines: 1 })).toHaveLength(1);
    await eventually(() => fs.existsSync(`${files[files.length - 1]}.idx`), 'the timestamp index');
  });

  it('serves its log through the manager: tail, timestamps, follow, previous', async () => {
    const uid = pod.metadata!.uid!;
    const ip = node.status(pod)!.podIP!;
    const collect = async (it: AsyncIterable<string>) => {
      const out: string[] = [];
      for await (const l of it) out.push(l);
      return out;
    };
    const tail = await collect(node.manager.logs(uid, { tailLines: 2, timestamps: true }));
    expect(tail).toHaveLength(2);
    expect(tail[1]).toMatch(/^\S+Z .*echo: GET \/\S* 200\n$/);

    // Follow: a request made now shows up in the stream.
    const ac = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const l of node.manager.logs(uid, { follow: true, tailLines: 0, signal: ac.signal, pollMs: 20 })) seen.push(l);
    })();
    await request('GET', `http://${ip}:8080/info?marker=follow-me`);
    await eventually(() => seen.some((l) => l.includes('GET /info 200')), 'the followed line');
    ac.abort();
    await following;

    // limitBytes stops at a line boundary.
    const limited = await collect(node.manager.logs(uid, { limitBytes: 200 }));
    expect(limited.join('').length).toBeLessThanOrEqual(200);
    expect(limited.length).toBeGreaterThan(0);

    expect(node.manager.findPod('default', 'echo-1')).toBe(uid);
    expect(node.manager.findPod('default', 'echo-1', 'other-uid')).toBeUndefined();
    await expect(collect(node.manager.logs(uid, { previous: true }))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await expect(collect(node.manager.logs(uid, { container: 'nope' }))).rejects.toThrow(PodLogError);
    await expect(collect(node.manager.logs('no-such-uid'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
