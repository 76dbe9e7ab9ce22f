// The service account controller: every active namespace has the service accounts it should
// (by default just "default"); one deleted is created again.
import type { corev1 } from '@k8ts/api';
import { type Informer, type WorkQueue, isAlreadyExists, isForbidden, keyOf } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';

export const NAME = 'serviceaccount';

export interface ServiceAccountOptions {
  /** The accounts every namespace gets. Default ['default']. */
  accounts?: string[];
  /** Workers. Default 5. */
  workers?: number;
}

type Namespace = corev1.Namespace;
type ServiceAccount = corev1.ServiceAccount;

export class ServiceAccountController extends BaseController {
  readonly queue: WorkQueue;
  private readonly namespaces: Informer<Namespace>;
  private readonly accounts: Informer<ServiceAccount>;
  private readonly names: string[];

  constructor(ctx: ControllerContext, opts: ServiceAccountOptions = {}) {
    super(NAME, ctx);
    this.names = opts.accounts ?? ['default'];
    this.namespaces = ctx.informers.informerFor('namespaces');
    this.accounts = ctx.informers.informerFor('serviceAccounts');
    this.queue = this.addLoop(NAME, opts.workers ?? 5, (key) => this.reconcile(key));
    this.namespaces.addEventHandler({
      onAdd: (ns) => this.queue.add(keyOf(ns)),
      onUpdate: (_o, ns) => this.queue.add(keyOf(ns)),
    });
    this.accounts.addEventHandler({
      onDelete: (sa) => {
        if (this.names.includes(sa.metadata?.name ?? '')) this.queue.add(sa.metadata?.namespace ?? '');
      },
    });
  }

  async reconcile(namespace: string): Promise<void> {
    const ns = this.namespaces.lister.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    for (const name of this.names) {
      if (this.accounts.lister.get(name, namespace)) continue;
      try {
        await this.ctx.clientset.serviceAccounts.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
        this.logger.debug({ namespace, account: name }, 'serviceaccount: created');
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        // A namespace that started terminating refuses new objects: nothing to do.
        if (isForbidden(err)) {
          const fresh = await this.ctx.clientset.namespaces.get(namespace).catch(() => undefined);
          if (!fresh || fresh.metadata?.deletionTimestamp) continue;
        }
        throw err;
      }
    }
  }
}
