// What every client command shares: the global flags, the resolved connection (config file
// + overrides) and one lazily opened clientset.
import { connect } from '@k8ts/client';
import type { GrpcClientset } from '@k8ts/client';
import { resolveConnection } from './config';
import type { Connection, ConnectionFlags } from './config';
import { CliError } from './errors';
import type { IO } from './io';

export interface GlobalFlags extends ConnectionFlags {
  /** Deadline of each call, e.g. "30s"; "0": the client's default. */
  requestTimeout?: string;
}

export class Session {
  private conn?: Connection;
  private cs?: GrpcClientset;

  constructor(
    readonly io: IO,
    readonly flags: GlobalFlags,
  ) {}

  get connection(): Connection {
    this.conn ??= resolveConnection(this.flags, this.io.env);
    return this.conn;
  }

  /** The namespace of namespaced commands. */
  get namespace(): string {
    return this.connection.namespace;
  }

  get clientset(): GrpcClientset {
    if (!this.cs) {
      const c = this.connection;
      const deadlineMs = parseTimeout(this.flags.requestTimeout);
      this.cs = connect({ address: c.server, userAgent: 'k8ts/v0.1.0', token: c.token, tls: c.tls, deadlineMs: deadlineMs || undefined, retries: 2 }) as GrpcClientset;
    }
    return this.cs;
  }

  /** The server address, for error messages (without failing when none is configured). */
  serverForErrors(): string | undefined {
    try {
      return this.connection.server;
    } catch {
      return this.flags.server;
    }
  }

  close(): void {
    this.cs?.close();
    this.cs = undefined;
  }
}

/** Parses a duration such as 500ms, 30s, 5m, 1h, 1m30s, or a bare number of seconds; 0 when empty. */
export function parseTimeout(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  if (consumed !== value.length) throw new CliError(`invalid duration "${value}": use for example 30s, 5m, 1h30m`);
  return Math.round(total);
}
