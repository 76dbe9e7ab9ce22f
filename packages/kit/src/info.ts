// k8ts.system.v1.InfoService: the identity of the serving process.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { systemv1 } from '@k8ts/api';

/** What InfoService reports; `address` and `metricsAddress` are read when a call arrives. */
export interface InfoSource {
  component: string;
  version: string;
  startTime: Date;
  address(): string;
  metricsAddress(): string;
  config(): Record<string, string>;
}

let kitVersion: string | undefined;
/** K8TS_VERSION, or the version in the kit's package.json. */
export function defaultVersion(): string {
  if (process.env.K8TS_VERSION) return process.env.K8TS_VERSION;
  if (kitVersion === undefined) {
    try {
      kitVersion = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')).version ?? '';
    } catch {
      kitVersion = '';
    }
  }
  return kitVersion ?? '';
}

/** The GetInfo response for `src` now. */
export function infoResponse(src: InfoSource): systemv1.GetInfoResponse {
  return {
    component: src.component,
    version: src.version,
    gitCommit: process.env.K8TS_GIT_COMMIT ?? '',
    startTime: src.startTime.toISOString(),
    uptimeSeconds: (Date.now() - src.startTime.getTime()) / 1000,
    nodeVersion: process.version,
    pid: process.pid,
    listenAddress: src.address(),
    config: src.config(),
    metricsAddress: src.metricsAddress(),
    hostname: os.hostname(),
  };
}

/** The InfoService implementation. */
export function infoService(src: InfoSource): systemv1.InfoServiceServer {
  return {
    getInfo: (_call, callback) => {
      callback(null, infoResponse(src));
    },
  };
}
