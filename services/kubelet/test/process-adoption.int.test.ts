// A kubelet restart: a new runtime and pod manager on the same root directory find the
// containers the first one started. Running ones are adopted (same process, no duplicate),
// one that died meanwhile is reported exited and restarted, and the containers of a pod that
// no longer exists are killed.
import * as fs from 'fs';
import * as path from 'path';
import type { corev1 } from '@k8ts/api';
import { isAlive, killGroup, readStat } from '../src';
import { condition, containerStatus, echoContainer, eventually, makePod, request, TestNode } from './process-harness';

const first = new TestNode({});
let second: TestNode;

afterAll(async () => {
  await second?.close();
  await first.close();
});

/** Processes (not the shim) whose environment names this pod. */
function processesOf(pod: corev1.Pod, script: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (!cmd.some((a) => a.endsWith(script)) || cmd.includes('k8ts-shim')) continue;
      const env = fs.readFileSync(`/proc/${e}/environ`, 'utf8').split('\0');
      if (env.includes(`K8TS_POD_UID=${pod.metadata!.uid}`) && isAlive(Number(e))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

const id = (s: corev1.PodStatus | undefined, name: string) => containerStatus(s, name)!.containerID!.replace('process://', '');

it('adopts running containers after a restart, reports dead ones, kills orphans', async () => {
  await first.start();
  const web = first.run(
    makePod(node0(), 'web', {
      containers: [echoContainer({ livenessProbe: { httpGet: { path: '/healthz', port: { intVal: 8080 } }, periodSeconds: 1, failureThreshold: 2, initialDelaySeconds: 2 } })],
    }),
  );
  const sleeper = first.run(makePod(node0(), 'sleeper', { containers: [{ name: 'p', image: 'k8ts/pause' }] }));
  const orphan = first.run(makePod(node0(), 'orphan', { containers: [{ name: 'p', image: 'k8ts/pause' }] }));
  const ready = (p: corev1.Pod) => first.waitStatus(p, (st) => condition(st, 'Ready') === 'True', `${p.metadata!.name} Ready`);
  const [webStatus, sleeperStatus, orphanStatus] = await Promise.all([ready(web), ready(sleeper), ready(orphan)]);
  const webIP = webStatus.podIP!;
  await eventually(() => request('GET', `http://${webIP}:8080/`).then((r) => r.body === 'web\n'), 'web answering');
  const webPid = first.runtime.containerStatus(id(webStatus, 'web'))!.pid!;
  const sleeperPid = first.runtime.containerStatus(id(sleeperStatus, 'p'))!.pid!;
  const orphanPid = first.runtime.containerStatus(id(orphanStatus, 'p'))!.pid!;
  expect(processesOf(web, 'echo.js')).toHaveLength(1);

  // The kubelet goes away; its containers keep running. Meanwhile the sleeper dies.
  await first.stop();
  expect(isAlive(webPid)).toBe(true);
  killGroup(sleeperPid, 'SIGKILL');
  await eventually(() => !isAlive(sleeperPid), 'the sleeper gone');

  // A new kubelet on the same root dir; the API lists web and sleeper (orphan was deleted).
  second = new TestNode({ root: first.root, network: first.network });
  await second.start();
  await second.manager.syncPods([web, sleeper]);

  // web: adopted, not started again.
  const s = await second.waitStatus(web, (st) => condition(st, 'Ready') === 'True', 'web Ready after the restart');
  expect(id(s, 'web')).toBe(id(webStatus, 'web'));
  expect(containerStatus(s, 'web')!.restartCount).toBe(0);
  expect(s.podIP).toBe(webIP);
  expect(second.runtime.containerStatus(id(s, 'web'))).toMatchObject({ pid: webPid, adopted: true, state: 'running' });
  // The same process: the one echo server of the pod, in the group the first kubelet started.
  const echoes = processesOf(web, 'echo.js');
  expect(echoes).toHaveLength(1);
  expect(readStat(echoes[0])!.pgrp).toBe(webPid);
  expect(second.events.of(web.metadata!.uid!, 'Started')).toHaveLength(0);
  expect((await request('GET', `http://${webIP}:8080/`)).body).toBe('web\n');

  // sleeper: reported exited (how, nobody saw), then restarted.
  const ss = await second.waitStatus(sleeper, (st) => containerStatus(st, 'p')?.restartCount === 1 && !!containerStatus(st, 'p')?.state?.running, 'sleeper restarted');
  expect(containerStatus(ss, 'p')!.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });

  // orphan: killed, its files and IP gone.
  expect(isAlive(orphanPid)).toBe(false);
  expect(second.runtime.getPodSandbox(orphan.metadata!.uid!)).toBeUndefined();
  expect(fs.readdirSync(path.join(first.root, 'pods')).some((d) => d.includes(orphan.metadata!.uid!))).toBe(false);
  expect(fs.existsSync(path.join(first.root, 'ipam', orphanStatus.podIP!))).toBe(false);

  // The adopted container is still probed by the new kubelet: a failing liveness probe restarts it.
  await request('POST', `http://${webIP}:8080/fail`);
  const restarted = await second.waitStatus(web, (st) => containerStatus(st, 'web')?.restartCount === 1 && condition(st, 'Ready') === 'True', 'web restarted');
  expect(id(restarted, 'web')).not.toBe(id(webStatus, 'web'));
  expect(isAlive(webPid)).toBe(false);
  await eventually(() => processesOf(web, 'echo.js').length === 1, 'exactly one echo process');

  // IPs stay unique: a new pod gets none of the IPs in use.
  const fresh = second.run(makePod(node0(), 'fresh', { containers: [{ name: 'p', image: 'k8ts/pause' }] }));
  const fs2 = await second.waitStatus(fresh, (st) => !!st.podIP, 'an IP');
  expect([webIP, ss.podIP]).not.toContain(fs2.podIP);
});

function node0(): TestNode {
  return first;
}
