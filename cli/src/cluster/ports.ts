// The ports of a local cluster: whether one is free, one the OS picks, and the apiserver's two
// ports (gRPC and HTTPS): the one a flag gives (refused when taken), else the one kept from the
// last start while it is still free (so that configs and kubeconfigs stay valid), else a new one.
import * as net from 'net';
import { CliError } from '../errors';

/** Whether host:port can be bound right now. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** The address the apiserver listens on, advertises, and has in its serving certificate. */
export const APISERVER_IP = '127.0.0.1';

/** A port that was free a moment ago (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** A free port other than those in `avoid`. */
async function freePortExcept(avoid: number[]): Promise<number> {
  for (;;) {
    const port = await freePort(APISERVER_IP);
    if (!avoid.includes(port)) return port;
  }
}

/**
 * One of the apiserver's ports: the one given with --<flag> (refused when taken), else the one
 * kept from the last start when it is still free, else one the OS picks. Never one in `avoid`.
 */
export async function choosePort(given: number | undefined, kept: number | undefined, flag: string, what: string, avoid: number[]): Promise<number> {
  if (given !== undefined && given !== 0) {
    if (avoid.includes(given)) throw new CliError(`invalid --${flag} ${given}: the apiserver already uses it for another port`);
    if (!(await portFree(given, APISERVER_IP))) {
      throw new CliError(`port ${APISERVER_IP}:${given} for the ${what} is already in use by another process: choose another with --${flag}`);
    }
    return given;
  }
  if (given === undefined && kept && !avoid.includes(kept) && (await portFree(kept, APISERVER_IP))) return kept;
  return freePortExcept(avoid);
}
