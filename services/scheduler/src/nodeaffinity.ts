// A pod's node constraints compiled once: spec.nodeSelector and required node affinity
// (terms ORed; within a term, matchExpressions on labels and matchFields on metadata.name
// ANDed), and the preferred terms with their weights.
import type { corev1 } from '@k8ts/api';
import { SelectorError, everything, newRequirement, selectorFromSet } from '@k8ts/machinery';
import type { LabelRequirement, LabelSelector, Labels, SelectorOperator } from '@k8ts/machinery';

function intersect(a: ReadonlySet<string> | null, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const x of b) if (a === null || a.has(x)) out.add(x);
  return out;
}

/** The label selector operators of NodeSelectorRequirement operators (Gt and Lt compare integers). */
const NODE_SELECTOR_OPERATORS: Readonly<Record<string, SelectorOperator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
  Gt: 'gt',
  Lt: 'lt',
};

/** A matchExpressions entry as a label requirement, checked as Kubernetes' NewRequirement checks it. */
function nodeSelectorRequirement(e: corev1.NodeSelectorRequirement): LabelRequirement {
  const key = e.key ?? '';
  const operator = e.operator ?? '';
  if (!Object.hasOwn(NODE_SELECTOR_OPERATORS, operator)) {
    throw new SelectorError(`node selector: operator "${operator}" of key "${key}" is not one of In, NotIn, Exists, DoesNotExist, Gt, Lt`, key);
  }
  return newRequirement(key, NODE_SELECTOR_OPERATORS[operator], e.values ?? []);
}

/** What node affinity looks at: a node's name and labels. */
export interface NodeLike {
  readonly name: string;
  readonly labels: Labels;
}

interface FieldRequirement {
  readonly op: 'In' | 'NotIn';
  readonly names: ReadonlySet<string>;
}

/** One NodeSelectorTerm. A term without requirements matches no node. */
export class NodeSelectorTermMatcher {
  private readonly labels: LabelSelector;
  private readonly fields: readonly FieldRequirement[];
  private readonly matchesNothing: boolean;
  /** The node names the term allows through metadata.name In requirements; null when it has none. */
  readonly names: ReadonlySet<string> | null;

  constructor(term: corev1.NodeSelectorTerm) {
    const exprs = term.matchExpressions ?? [];
    const fields = term.matchFields ?? [];
    this.matchesNothing = exprs.length === 0 && fields.length === 0;
    this.labels = everything().add(...exprs.map(nodeSelectorRequirement));
    const compiled: FieldRequirement[] = [];
    let names: Set<string> | null = null;
    for (const f of fields) {
      if (f.key !== 'metadata.name') throw new SelectorError(`node selector: matchFields key "${f.key ?? ''}" is not supported (only metadata.name)`, f.key ?? '');
      if (f.operator !== 'In' && f.operator !== 'NotIn') {
        throw new SelectorError(`node selector: matchFields operator "${f.operator ?? ''}" is not one of In, NotIn`, f.key);
      }
      if ((f.values ?? []).length === 0) throw new SelectorError(`node selector: matchFields ${f.operator} needs at least one value`, f.key);
      const set = new Set(f.values);
      compiled.push({ op: f.operator, names: set });
      if (f.operator === 'In') names = intersect(names, set);
    }
    this.fields = compiled;
    this.names = names;
  }

  matches(node: NodeLike): boolean {
    if (this.matchesNothing) return false;
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i];
      if (f.names.has(node.name) !== (f.op === 'In')) return false;
    }
    return this.labels.matches(node.labels);
  }
}

/** spec.nodeSelector AND required node affinity. */
export class RequiredNodeAffinity {
  private readonly selector: LabelSelector | null;
  private readonly terms: readonly NodeSelectorTermMatcher[] | null;

  constructor(spec: corev1.PodSpec | undefined) {
    const ns = spec?.nodeSelector;
    this.selector = ns && Object.keys(ns).length > 0 ? selectorFromSet(ns) : null;
    const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    this.terms = required ? (required.nodeSelectorTerms ?? []).map((t) => new NodeSelectorTermMatcher(t)) : null;
  }

  /** True when the pod constrains nodes at all. */
  get constrains(): boolean {
    return this.selector !== null || this.terms !== null;
  }

  matches(node: NodeLike): boolean {
    if (this.selector && !this.selector.matches(node.labels)) return false;
    const terms = this.terms;
    if (terms === null) return true;
    for (let i = 0; i < terms.length; i++) if (terms[i].matches(node)) return true;
    return false;
  }

  /**
   * The only node names the pod can go to, when every required term names nodes through
   * metadata.name In (the union over terms); null when any node may do.
   */
  nodeNames(): ReadonlySet<string> | null {
    if (!this.terms || this.terms.length === 0) return null;
    const out = new Set<string>();
    for (const t of this.terms) {
      if (!t.names) return null;
      for (const n of t.names) out.add(n);
    }
    return out;
  }
}

/** The preferred node affinity terms and their weights. */
export class PreferredNodeAffinity {
  private readonly terms: readonly { weight: number; term: NodeSelectorTermMatcher }[];

  constructor(spec: corev1.PodSpec | undefined) {
    const preferred = spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    this.terms = preferred
      .filter((p) => (p.weight ?? 0) !== 0)
      .map((p) => ({ weight: p.weight ?? 0, term: new NodeSelectorTermMatcher(p.preference ?? {}) }));
  }

  get empty(): boolean {
    return this.terms.length === 0;
  }

  /** The sum of the weights of the terms the node matches. */
  score(node: NodeLike): number {
    let s = 0;
    for (let i = 0; i < this.terms.length; i++) if (this.terms[i].term.matches(node)) s += this.terms[i].weight;
    return s;
  }
}
