// Supervision of a local cluster: stopping every process in order (nodes, control plane,
// store, NATS, then the pods' processes), and the foreground mode of `k8ts up`, which stays
// until Ctrl-C or SIGTERM (or `k8ts down` from elsewhere) and reports components that exit.
import type { IO } from '../io';
import { type Layout, type ProcessEntry, readState, removeState, stopRank } from './layout';
import { type Spawned, exitText, stopAll, stopPodProcesses } from './procs';
import type { UpResult } from './up';

/** Stops every process of the cluster in order (nodes, control plane, store, NATS), then the pods. */
export async function stopEverything(l: Layout, entries: ProcessEntry[], graceMs = 8000): Promise<void> {
  const ranks = [...new Set(entries.map((e) => stopRank(e.name)))].sort((a, b) => a - b);
  for (const r of ranks) {
    await stopAll(
      entries.filter((e) => stopRank(e.name) === r),
      graceMs,
    );
    if (r === 1) await stopPodProcesses(l.dataDir, 3000);
  }
  await stopPodProcesses(l.dataDir, 3000);
}

/**
 * Foreground mode: stay until Ctrl-C or SIGTERM, then stop everything. A component that exits
 * meanwhile is reported (k8ts stop NAME does that on purpose).
 */
export async function supervise(io: IO, r: UpResult, children: Spawned[] | undefined): Promise<void> {
  const l = r.layout;
  io.err('The cluster runs in the foreground: press Ctrl-C to stop it (or start it with --detach).\n');
  for (const sp of children ?? []) {
    sp.exited.then((x) => {
      const st = readState(l);
      const entry = st?.processes.find((p) => p.pid === sp.entry.pid);
      if (entry && !entry.stopped) io.err(`k8ts: ${sp.entry.name} ${exitText(x).replace(/^it /, '')} (log: ${sp.entry.log})\n`);
    });
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      io.err('\nStopping the cluster...\n');
      const st = readState(l);
      await stopEverything(l, st?.processes ?? [], 8000);
      removeState(l);
      io.err('Stopped.\n');
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // Everything stopped from outside (k8ts down): nothing left to supervise.
    const poll = setInterval(() => {
      const st = readState(l);
      if (!st && !stopping) {
        clearInterval(poll);
        resolve();
      }
    }, 500);
    poll.unref();
  });
}
