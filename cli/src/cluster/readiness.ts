// When a component of a local cluster counts as started: `listening` once its log says where
// (the kit's {"msg":"listening","address":...} line; nats-server's banner, which is all of its
// readiness), and the cluster as a whole once every expected Node is Ready. The Launcher adds
// the health checks in between.
import * as fs from 'fs';
import type { Clientset } from '@k8ts/client';
import type { Launcher } from './launcher';
import { type Plan, kubeletOf } from './plan';
import { StartError, logTail } from './procs';
import type { Progress } from './progress';

/** How a component says it listens and is ready: nats-server in its log, k8ts services by their health check. */
export type ComponentKind = Plan['kind'];

/** The kind of the component of this name (in a plan or in state.json). */
export function componentKind(name: string): ComponentKind {
  return name === 'nats' ? 'nats' : 'service';
}

/**
 * Reads the log since `offset` and returns the address of the first `listening` line; for
 * nats-server, its client address once it logged that it is ready ('ready' when it did not
 * say where it listens). nats-server speaks no gRPC: that line is all its readiness.
 */
export function listeningAddress(kind: ComponentKind, file: string, offset: number): string | undefined {
  let text: string;
  try {
    const buf = fs.readFileSync(file);
    text = buf.subarray(offset).toString('utf8');
  } catch {
    return undefined;
  }
  if (kind === 'nats') {
    if (!/Server is ready/.test(text)) return undefined;
    const m = /Listening for client connections on ([\d.]+:\d+)/.exec(text);
    return m ? m[1] : 'ready';
  }
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"listening"')) continue;
    try {
      const j = JSON.parse(line) as { msg?: string; address?: string };
      if (j.msg === 'listening' && j.address) return j.address;
    } catch {
      // a partial line: read again later
    }
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until each expected node is Ready, marking its kubelet ready in the progress. */
export async function waitNodesReady(cs: Clientset, names: string[], progress: Progress, launcher: Launcher, deadline: number): Promise<void> {
  const pending = new Set(names);
  const sims = names.filter((n) => kubeletOf(n) === 'kubelet-sim').length;
  for (;;) {
    const dead = launcher.firstExit();
    if (dead) throw new StartError(dead.name, dead.why, dead.log, logTail(dead.log, dead.offset));
    try {
      const { items } = await cs.nodes.list({ deadlineMs: 2000 });
      for (const n of items) {
        const name = n.metadata?.name ?? '';
        const ready = n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (ready && pending.has(name)) {
          pending.delete(name);
          if (kubeletOf(name) !== 'kubelet-sim') progress.set(`kubelet-${name}`, 'ready', `node ${name} Ready`);
        }
      }
      if (sims > 0) {
        const left = [...pending].filter((n) => kubeletOf(n) === 'kubelet-sim').length;
        progress.set('kubelet-sim', left === 0 ? 'ready' : 'listening', `${sims - left}/${sims} simulated nodes Ready`);
      }
    } catch {
      // the apiserver may be busy; try again
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const name = [...pending][0];
      const sp = launcher.spawned.find((x) => x.entry.name === kubeletOf(name));
      throw new StartError(
        kubeletOf(name),
        `node ${name} did not become Ready in time`,
        sp?.entry.log ?? '',
        sp ? logTail(sp.entry.log, sp.logOffset) : '',
      );
    }
    await sleep(100);
  }
}
