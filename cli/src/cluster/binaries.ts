// Where `k8ts up` finds the programs it starts: the services' entry points (next to the CLI in
// the source tree, or K8TS_SERVICES_DIR) and the nats-server binary. A missing one is a
// CliError saying how to get it.
import * as fs from 'fs';
import * as path from 'path';
import { CliError } from '../errors';

/** The services `k8ts up` runs, each from services/<name>/dist/main.js. */
export const SERVICES = ['store', 'apiserver', 'scheduler', 'controller-manager', 'kubelet', 'proxy'];

/** Where the services' entry points are: next to the CLI in the source tree, or K8TS_SERVICES_DIR. */
export function servicesDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.K8TS_SERVICES_DIR) return path.resolve(env.K8TS_SERVICES_DIR);
  // This file is cli/dist/cluster/binaries.js (or cli/src/cluster/binaries.ts in tests).
  return path.resolve(__dirname, '..', '..', '..', 'services');
}

export function serviceMain(service: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(servicesDir(env), service, 'dist', 'main.js');
}

/**
 * The nats-server binary: $NATS_SERVER_BIN, then `.tools/bin` of the k8ts checkout this CLI
 * runs from (scripts/nats-server.sh puts Debian 13's package there when the machine's is
 * older than 2.10), then PATH, then /usr/sbin, /usr/local/sbin and /usr/local/bin.
 */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NATS_SERVER_BIN) {
    if (!fs.existsSync(env.NATS_SERVER_BIN)) throw new CliError(`nats-server not found at NATS_SERVER_BIN=${env.NATS_SERVER_BIN}`);
    return env.NATS_SERVER_BIN;
  }
  // This file is cli/dist/cluster/binaries.js (or cli/src/cluster/binaries.ts in tests).
  const tools = path.resolve(__dirname, '..', '..', '..', '.tools', 'bin');
  for (const dir of [tools, ...(env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin']) {
    if (!dir) continue;
    const p = path.join(dir, 'nats-server');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new CliError(
    'nats-server not found: k8ts up needs it for the cluster state. Run make setup (it fetches the Debian nats-server package into .tools) or set NATS_SERVER_BIN to a nats-server 2.10 or later',
  );
}

/** Throws a CliError naming the first service whose entry point is not built. */
export function requireBuiltServices(env: NodeJS.ProcessEnv = process.env): void {
  for (const s of SERVICES) {
    const main = serviceMain(s, env);
    if (!fs.existsSync(main)) throw new CliError(`the ${s} is not built: ${main} does not exist (run "make build")`);
  }
}
