// The node IPAM controller: gives every node a pod CIDR (a /24 of --cluster-cidr by default)
// in spec.podCIDR and spec.podCIDRs. The assignments live only in the Node objects: when a
// term of leadership starts, the set of used subnets is rebuilt from a fresh (not cached)
// list of the nodes, so a new leader never hands out a subnet its predecessor gave away; a
// node that has a pod CIDR keeps it. Each assignment is an update guarded by the node's
// resourceVersion, and the informer tells of every other node's subnet before it is reused.
import type { corev1 } from '@k8ts/api';
import { type EventRecorder, type Informer, type WorkQueue, deepCopy, isConflict, isNotFound, keyOf } from '@k8ts/client';
import { BaseController, type ControllerContext } from '../../controller';
import { CidrSet } from './cidrset';

export { CidrSet, parseCidr, formatCidr } from './cidrset';

export const NAME = 'nodeipam';

export interface NodeIpamOptions {
  /** --cluster-cidr. Default 127.244.0.0/16. */
  clusterCidr?: string;
  /** --node-cidr-mask-size. Default 24. */
  nodeCidrMaskSize?: number;
  /** Workers. Default 1 (assignments are quick; one worker keeps them in order). */
  workers?: number;
}

type Node = corev1.Node;

export class NodeIpamController extends BaseController {
  readonly queue: WorkQueue;
  readonly cidrs: CidrSet;
  private readonly nodes: Informer<Node>;
  private readonly recorder: EventRecorder;
  /** Which node holds which subnet, as far as this controller knows. */
  private readonly owners = new Map<string, string>();
  private rebuilding?: Promise<void>;

  constructor(ctx: ControllerContext, opts: NodeIpamOptions = {}) {
    super(NAME, ctx);
    this.cidrs = new CidrSet(opts.clusterCidr ?? '127.244.0.0/16', opts.nodeCidrMaskSize ?? 24);
    this.recorder = ctx.recorder('node-ipam-controller');
    this.nodes = ctx.informers.informerFor('nodes');
    this.queue = this.addLoop(NAME, opts.workers ?? 1, (key) => this.reconcile(key));
    this.nodes.addEventHandler({
      onAdd: (n) => {
        this.observe(n);
        this.queue.add(keyOf(n));
      },
      onUpdate: (_o, n) => {
        this.observe(n);
        if (!n.spec?.podCIDR) this.queue.add(keyOf(n));
      },
      onDelete: (n) => this.queue.add(keyOf(n)),
    });
  }

  /** Marks the subnets a node holds as used. */
  private observe(node: Node): void {
    const name = node.metadata?.name ?? '';
    for (const cidr of podCidrsOf(node)) {
      if (!this.cidrs.contains(cidr)) continue;
      const holder = this.owners.get(cidr);
      if (holder && holder !== name) {
        this.logger.warn({ cidr, node: name, holder }, 'nodeipam: two nodes hold the same pod CIDR');
        continue;
      }
      this.cidrs.occupy(cidr);
      this.owners.set(cidr, name);
    }
  }

  /** Rebuilds the used subnets from a fresh list of the nodes (once per term; again after a failure). */
  rebuild(): Promise<void> {
    this.rebuilding ??= (async () => {
      const { items } = await this.ctx.clientset.nodes.listAll();
      for (const n of items) this.observe(n);
      this.logger.info({ nodes: items.length, used: this.cidrs.usedCount(), subnets: this.cidrs.size }, 'nodeipam: pod CIDRs rebuilt from the nodes');
    })().catch((err) => {
      this.rebuilding = undefined;
      throw err;
    });
    return this.rebuilding;
  }

  async reconcile(name: string): Promise<void> {
    await this.rebuild();
    const node = this.nodes.lister.get(name);
    if (!node) {
      // Free what it held.
      for (const [cidr, holder] of [...this.owners]) {
        if (holder !== name) continue;
        this.owners.delete(cidr);
        this.cidrs.release(cidr);
      }
      return;
    }
    if (node.spec?.podCIDR) {
      this.observe(node);
      return;
    }
    const cidr = this.cidrs.allocateNext();
    if (!cidr) {
      this.recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Warning', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      this.queue.addAfter(name, 30_000);
      return;
    }
    this.owners.set(cidr, name);
    const copy = deepCopy(node);
    copy.spec = { ...copy.spec, podCIDR: cidr, podCIDRs: [cidr] };
    try {
      await this.ctx.clientset.nodes.update(copy);
      this.logger.info({ node: name, cidr }, 'nodeipam: assigned pod CIDR');
    } catch (err) {
      this.owners.delete(cidr);
      this.cidrs.release(cidr);
      if (isNotFound(err)) return;
      if (isConflict(err)) {
        // Someone else changed the node (perhaps gave it a CIDR): look at it again.
        const live = await this.ctx.clientset.nodes.get(name).catch(() => undefined);
        if (live) this.observe(live);
      }
      this.recorder.event({ ...node, apiVersion: 'v1', kind: 'Node' }, 'Warning', 'CIDRAssignmentFailed', `Node ${name}: ${String((err as Error)?.message ?? err)}`);
      throw err;
    }
  }
}

function podCidrsOf(node: Node): string[] {
  const out = new Set<string>();
  if (node.spec?.podCIDR) out.add(node.spec.podCIDR);
  for (const c of node.spec?.podCIDRs ?? []) if (c) out.add(c);
  return [...out];
}
