// The ServiceSource of a proxy in a cluster: two informers (Services, Endpoints) over the
// apiserver, through @k8ts/client. Each add, update or delete reports the object's key;
// the proxy reads the current objects from the informers' caches.
import type { corev1 } from '@k8ts/api';
import { type Clientset, type Informer, InformerFactory, keyOf, type Logger } from '@k8ts/client';
import type { ServiceSource } from './source';

export class InformerSource implements ServiceSource {
  private readonly factory: InformerFactory;
  private readonly services: Informer<corev1.Service>;
  private readonly endpoints: Informer<corev1.Endpoints>;
  private readonly abort = new AbortController();

  constructor(clientset: Clientset, opts: { logger?: Logger } = {}) {
    this.factory = new InformerFactory(clientset, { logger: opts.logger });
    this.services = this.factory.informerFor('services');
    this.endpoints = this.factory.informerFor('endpoints');
  }

  async start(onChange: (serviceKey: string) => void): Promise<void> {
    for (const informer of [this.services, this.endpoints] as Informer<corev1.Service | corev1.Endpoints>[]) {
      informer.addEventHandler({
        onAdd: (obj) => onChange(keyOf(obj)),
        onUpdate: (_old, obj) => onChange(keyOf(obj)),
        onDelete: (obj) => onChange(keyOf(obj)),
      });
    }
    this.factory.start(this.abort.signal);
    const synced = await this.factory.waitForSync(this.abort.signal);
    if (!synced && !this.abort.signal.aborted) {
      throw new Error('the Services and Endpoints informers stopped before their first list');
    }
  }

  getService(key: string): corev1.Service | undefined {
    return this.services.lister.getByKey(key);
  }

  getEndpoints(key: string): corev1.Endpoints | undefined {
    return this.endpoints.lister.getByKey(key);
  }

  serviceKeys(): string[] {
    return this.services.lister.list().map((s) => keyOf(s));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.factory.stop();
  }
}
