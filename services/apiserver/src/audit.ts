// The audit log: one JSON line per API call, written when the call ends: who (user and
// groups), what (verb, API group, resource, subresource, namespace, name), the result (gRPC
// code) and how long it took. Watches are recorded when they end, with their whole duration.
import * as fs from 'fs';

export interface AuditRecord {
  /** When the call ended (RFC 3339 with milliseconds). */
  ts: string;
  user: string;
  groups: string[];
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The gRPC method, e.g. /k8ts.core.v1.PodService/CreatePod. */
  method: string;
  /** The gRPC status code name: OK, NOT_FOUND, PERMISSION_DENIED, ... */
  code: string;
  latencyMs: number;
}

export interface AuditSink {
  record(r: AuditRecord): void;
  close(): Promise<void>;
}

export const NO_AUDIT: AuditSink = { record() {}, async close() {} };

/** Appends JSON lines to a file ('-' is stdout). */
export class AuditFile implements AuditSink {
  private readonly out: NodeJS.WritableStream;
  private readonly ownsStream: boolean;

  constructor(path: string) {
    if (path === '-') {
      this.out = process.stdout;
      this.ownsStream = false;
    } else {
      this.out = fs.createWriteStream(path, { flags: 'a' });
      this.ownsStream = true;
    }
  }

  record(r: AuditRecord): void {
    this.out.write(`${JSON.stringify(r)}\n`);
  }

  close(): Promise<void> {
    if (!this.ownsStream) return Promise.resolve();
    return new Promise((resolve) => (this.out as fs.WriteStream).end(() => resolve()));
  }
}
