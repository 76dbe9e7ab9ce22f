// Where the proxy learns about Services and Endpoints. In a cluster that is the apiserver,
// through informers (informer-source.ts); a manifests file (--manifests) and an in-memory
// source serve local runs, benchmarks and tests through the same interface.
import * as fs from 'fs';
import { type corev1, parseManifests } from '@k8ts/api';
import type { Logger } from 'pino';
import { objectKey } from './rules';

/**
 * The Services and Endpoints the proxy serves, as a local cache plus change
 * notifications. Implementations call onChange with the 'namespace/name' key whose Service
 * or Endpoints was added, updated or deleted; the proxy then reads the current objects with
 * getService/getEndpoints (level-triggered: it never trusts the event itself).
 */
export interface ServiceSource {
  /** Starts delivering changes; resolves once the initial state is loaded (synced). */
  start(onChange: (serviceKey: string) => void): Promise<void>;
  /** The Service named by 'namespace/name', from the local cache. */
  getService(key: string): corev1.Service | undefined;
  /** The Endpoints named by 'namespace/name', from the local cache. */
  getEndpoints(key: string): corev1.Endpoints | undefined;
  /** Every Service key in the cache. */
  serviceKeys(): string[];
  /** Stops delivering changes. */
  stop(): Promise<void>;
}

/** A ServiceSource held in memory, changed by calling its methods. */
export class MemorySource implements ServiceSource {
  protected readonly services = new Map<string, corev1.Service>();
  protected readonly endpoints = new Map<string, corev1.Endpoints>();
  private onChange: ((key: string) => void) | undefined;

  async start(onChange: (serviceKey: string) => void): Promise<void> {
    this.onChange = onChange;
  }

  async stop(): Promise<void> {
    this.onChange = undefined;
  }

  getService(key: string): corev1.Service | undefined {
    return this.services.get(key);
  }

  getEndpoints(key: string): corev1.Endpoints | undefined {
    return this.endpoints.get(key);
  }

  serviceKeys(): string[] {
    return [...this.services.keys()];
  }

  setService(svc: corev1.Service): void {
    const key = objectKey(svc);
    this.services.set(key, svc);
    this.onChange?.(key);
  }

  deleteService(key: string): void {
    if (this.services.delete(key)) this.onChange?.(key);
  }

  setEndpoints(eps: corev1.Endpoints): void {
    const key = objectKey(eps);
    this.endpoints.set(key, eps);
    this.onChange?.(key);
  }

  deleteEndpoints(key: string): void {
    if (this.endpoints.delete(key)) this.onChange?.(key);
  }
}

/**
 * Services and Endpoints read from a YAML file of Kubernetes manifests (documents of kind
 * Service and Endpoints; others are ignored), reloaded when the file changes. A file that
 * does not parse is reported and the previous state is kept.
 */
export class FileSource extends MemorySource {
  private watcher: fs.FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private lastText = '';

  constructor(
    private readonly file: string,
    private readonly logger?: Logger,
  ) {
    super();
  }

  override async start(onChange: (serviceKey: string) => void): Promise<void> {
    await super.start(onChange);
    this.reload(true);
    try {
      this.watcher = fs.watch(this.file, () => this.reload(false));
      this.watcher.on('error', () => undefined);
    } catch {
      /* polling below still notices changes */
    }
    // fs.watch misses replacements by rename on some systems: poll as well.
    this.poll = setInterval(() => this.reload(false), 1000);
    this.poll.unref();
  }

  override async stop(): Promise<void> {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    await super.stop();
  }

  /** Reads the file again and reports what changed. Throws on the first load only. */
  reload(first: boolean): void {
    let text: string;
    let objects: ReturnType<typeof parseManifests>;
    try {
      text = fs.readFileSync(this.file, 'utf8');
      if (!first && text === this.lastText) return;
      objects = parseManifests(text, this.file);
    } catch (err) {
      if (first) throw err;
      this.logger?.warn({ file: this.file, err: (err as Error).message }, 'cannot reload manifests; keeping the previous ones');
      return;
    }
    this.lastText = text;
    const services = new Map<string, corev1.Service>();
    const endpoints = new Map<string, corev1.Endpoints>();
    for (const o of objects) {
      if (o.kind.kind === 'Service') {
        const svc = o.object as corev1.Service;
        svc.metadata = { ...svc.metadata, namespace: svc.metadata?.namespace || 'default' };
        services.set(objectKey(svc), svc);
      } else if (o.kind.kind === 'Endpoints') {
        const eps = o.object as corev1.Endpoints;
        eps.metadata = { ...eps.metadata, namespace: eps.metadata?.namespace || 'default' };
        endpoints.set(objectKey(eps), eps);
      }
    }
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    for (const key of [...this.services.keys()]) if (!services.has(key)) this.deleteService(key);
    for (const key of [...this.endpoints.keys()]) if (!endpoints.has(key)) this.deleteEndpoints(key);
    for (const [key, svc] of services) if (!same(this.services.get(key), svc)) this.setService(svc);
    for (const [key, eps] of endpoints) if (!same(this.endpoints.get(key), eps)) this.setEndpoints(eps);
  }
}
