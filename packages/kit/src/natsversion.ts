// Which nats-server versions k8ts runs on. 2.9 (Debian 12's) can leave the copies of a
// replicated stream different after its leader is killed (services/store/README.md, "Known
// limits"); 2.10 also brought `sync_interval`, which k8ts' NATS configurations use.
import { execFileSync } from 'child_process';

/** The oldest nats-server k8ts supports. */
export const MIN_NATS_SERVER = '2.10';

/** Whether a nats-server version ("2.10.27" or "v2.10.27") is MIN_NATS_SERVER or later; an unparsable one passes. */
export function natsVersionOk(version: string): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) return true;
  const [minMajor, minMinor] = MIN_NATS_SERVER.split('.').map(Number);
  const major = Number(m[1]);
  return major > minMajor || (major === minMajor && Number(m[2]) >= minMinor);
}

/** The version a nats-server binary reports ("2.10.27"), or undefined when it cannot be run or does not say. */
export function natsServerVersion(bin: string): string | undefined {
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /v(\d+\.\d+\.\d+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}
