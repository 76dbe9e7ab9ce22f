// The Launcher of `k8ts up`: starts one planned component detached (recorded in state.json
// at once, so `k8ts down` can stop it even if `up` dies), then waits until it listens, its
// gRPC health check answers SERVING, and (the apiserver) its HTTPS readiness URL answers 200.
// A component that exits or misses the deadline fails with a StartError; one failure aborts
// every pending start.
import * as fs from 'fs';
import * as path from 'path';
import { checkHealth, checkHttps, healthCredentials } from './health';
import { type ClusterState, type Layout, writeState } from './layout';
import type { HttpsReadiness, Plan } from './plan';
import { type Spawned, StartError, componentEnv, exitText, logTail, spawnComponent } from './procs';
import type { Progress } from './progress';
import { listeningAddress, sleep } from './readiness';

export class Launcher {
  readonly spawned: Spawned[] = [];
  private failure?: Error;

  constructor(
    private readonly l: Layout,
    private readonly state: ClusterState,
    private readonly progress: Progress,
    private readonly env: NodeJS.ProcessEnv,
    private readonly deadline: number,
  ) {}

  /** Starts a process and resolves once it is ready (health SERVING), with its address. */
  async start(plan: Plan): Promise<Spawned> {
    this.progress.set(plan.name, 'starting');
    const sp = spawnComponent({
      name: plan.name,
      command: plan.command,
      args: plan.args,
      log: path.join(this.l.logs, `${plan.name}.log`),
      cwd: this.l.dataDir,
      env: componentEnv(this.env),
      node: plan.node,
    });
    this.spawned.push(sp);
    this.state.processes = this.state.processes.filter((p) => p.name !== plan.name);
    this.state.processes.push(sp.entry);
    writeState(this.l, this.state);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    sp.exited.then((x) => {
      exited = x;
    });
    const fail = (why: string): never => {
      this.progress.set(plan.name, 'failed', why);
      throw new StartError(plan.name, why, sp.entry.log, logTail(sp.entry.log, sp.logOffset));
    };
    if (!sp.entry.pid) {
      await sp.exited;
      fail(`could not run ${plan.command}`);
    }
    let address: string | undefined;
    while (!address) {
      await sleep(40);
      if (this.failure) throw this.failure;
      address = listeningAddress(plan.kind, sp.entry.log, sp.logOffset);
      if (address) break;
      if (exited) fail(exitText(exited));
      if (Date.now() > this.deadline) fail('it did not start listening in time');
    }
    sp.entry.address = address;
    writeState(this.l, this.state);
    this.progress.set(plan.name, 'listening', address);
    if (plan.kind === 'nats') {
      this.progress.set(plan.name, 'ready', address);
      return sp;
    }
    for (;;) {
      if (this.failure) throw this.failure;
      if (exited) fail(exitText(exited));
      const health = await checkHealth(address, 1000, '', healthCredentials(this.l.dataDir, plan.name));
      if (health === 'SERVING') break;
      if (Date.now() > this.deadline) fail(`its health check still answers ${health}`);
      await sleep(50);
    }
    if (plan.httpsReady) await this.waitHttpsReady(plan, plan.httpsReady, address, () => exited, fail);
    // A kubelet is ready when its Node is (waitNodesReady says so).
    if (plan.name.startsWith('kubelet-')) this.progress.set(plan.name, 'listening', `${address} (serving; waiting for its Node to be Ready)`);
    else this.progress.set(plan.name, 'ready', plan.httpsReady ? `${address}, ${new URL(plan.httpsReady.url).origin}` : address);
    return sp;
  }

  /** Polls the plan's HTTPS readiness URL until it answers 200. */
  private async waitHttpsReady(
    plan: Plan,
    check: HttpsReadiness,
    address: string,
    exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined,
    fail: (why: string) => never,
  ): Promise<void> {
    this.progress.set(plan.name, 'listening', `${address} (waiting for GET ${check.url})`);
    const probe = { url: check.url, ca: fs.readFileSync(check.caFile, 'utf8'), cert: fs.readFileSync(check.certFile, 'utf8'), key: fs.readFileSync(check.keyFile, 'utf8') };
    for (;;) {
      if (this.failure) throw this.failure;
      const gone = exited();
      if (gone) fail(exitText(gone));
      const answer = await checkHttps(probe, 1000);
      if (answer === 'OK') return;
      if (Date.now() > this.deadline) fail(`GET ${check.url} still answers ${answer}`);
      await sleep(50);
    }
  }

  /** Fails every pending start (another component failed). */
  abort(err: Error): void {
    this.failure ??= err;
  }

  /** A component that exited while others were starting. */
  firstExit(): { name: string; why: string; log: string; offset: number } | undefined {
    for (const sp of this.spawned) {
      if (sp.child.exitCode !== null || sp.child.signalCode !== null) {
        return { name: sp.entry.name, why: exitText({ code: sp.child.exitCode, signal: sp.child.signalCode }), log: sp.entry.log, offset: sp.logOffset };
      }
    }
    return undefined;
  }
}
