// The garbage collector's picture of ownership: a node per object (by uid) with its owner
// references and the nodes that name it as an owner (its dependents). Owners not (yet) seen
// by any informer are "virtual" nodes, made from the dependents' references, until the
// collector has checked with the apiserver whether they exist.
import type { metav1 } from '@k8ts/api';

/** Where an object is and what it is. */
export interface Identity {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

export class GraphNode {
  owners: metav1.OwnerReference[] = [];
  readonly dependents = new Set<GraphNode>();
  /** Made from a dependent's owner reference, not observed by an informer. */
  virtual = false;
  /** deletionTimestamp is set. */
  beingDeleted = false;
  finalizers: string[] = [];

  constructor(public identity: Identity) {}

  get uid(): string {
    return this.identity.uid;
  }

  /** Being deleted in the foreground: held until its blocking dependents are gone. */
  get deletingDependents(): boolean {
    return this.beingDeleted && this.finalizers.includes(FOREGROUND_FINALIZER);
  }

  /** Being deleted with the orphan policy: its dependents lose their reference first. */
  get orphaningDependents(): boolean {
    return this.beingDeleted && this.finalizers.includes(ORPHAN_FINALIZER);
  }

  /** Dependents whose reference to this node has blockOwnerDeletion. */
  blockingDependents(): GraphNode[] {
    return [...this.dependents].filter((d) => d.owners.some((o) => o.uid === this.uid && o.blockOwnerDeletion === true));
  }
}

/** Every known object by uid. */
export class Graph {
  private readonly nodes = new Map<string, GraphNode>();

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  set(node: GraphNode): void {
    this.nodes.set(node.uid, node);
  }

  delete(uid: string): void {
    this.nodes.delete(uid);
  }

  get size(): number {
    return this.nodes.size;
  }

  values(): IterableIterator<GraphNode> {
    return this.nodes.values();
  }
}
