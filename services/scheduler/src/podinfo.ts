// PodInfo: everything the scheduler needs from a pod, computed once per pod object (the
// requests, host ports, tolerations and compiled (anti-)affinity terms), so that filtering
// and scoring a thousand nodes never re-reads the pod spec. Pending pods additionally get
// their node affinity and topology spread constraints compiled by prepareForScheduling().
import type { corev1 } from '@k8ts/api';
import { emptyComputeResources, podSchedulingRequests } from '@k8ts/machinery';
import type { ComputeResources } from '@k8ts/machinery';
import { NO_LABELS, labelSelectorAsSelector, newRequirement } from '@k8ts/machinery';
import type { LabelSelector, Labels } from '@k8ts/machinery';
import { selectorKey } from './cache/index_keys';
import { PreferredNodeAffinity, RequiredNodeAffinity } from './nodeaffinity';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** Namespace labels by namespace name (for namespaceSelector in pod affinity terms). */
export type NamespaceLabels = (namespace: string) => Labels | undefined;

/** A pod (anti-)affinity term, compiled. */
export interface AffinityTerm {
  readonly topologyKey: string;
  readonly selector: LabelSelector;
  /** Namespaces the term selects by name (the pod's own when neither names nor selector are given). */
  readonly namespaces: ReadonlySet<string>;
  /** Namespaces the term selects by label; NOTHING when absent, EVERYTHING for {}. */
  readonly namespaceSelector: LabelSelector;
  /** The identity of the pods it selects (namespaces and selector, not the topology key). */
  readonly podSetKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

/** True when the term selects `pod` (by namespace and labels). */
export function termMatches(term: AffinityTerm, pod: PodInfo, nsLabels?: NamespaceLabels): boolean {
  return namespaceSelected(term, pod.namespace, nsLabels) && term.selector.matches(pod.labels);
}

export function namespaceSelected(
  term: { readonly namespaces: ReadonlySet<string>; readonly namespaceSelector: LabelSelector },
  namespace: string,
  nsLabels?: NamespaceLabels,
): boolean {
  if (term.namespaces.has(namespace)) return true;
  const sel = term.namespaceSelector;
  if (sel.isNothing()) return false;
  if (sel.isEverything()) return true;
  return sel.matches(nsLabels?.(namespace));
}

export interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

/** A compiled topology spread constraint. */
export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  readonly selector: LabelSelector;
  readonly minDomains: number;
  readonly honorNodeAffinity: boolean;
  readonly honorNodeTaints: boolean;
}

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * The selector narrowed by the pod's own values of some label keys (matchLabelKeys: "key in
 * (value)" for affinity, "key=value" for spread; mismatchLabelKeys: "key notin (value)"); keys
 * the pod lacks are skipped, and a selector that matches nothing stays so.
 */
function withLabelValues(selector: LabelSelector, operator: 'in' | 'notin' | '=', labels: Labels, keys: readonly string[] | undefined): LabelSelector {
  const present = (keys ?? []).filter((k) => Object.hasOwn(labels, k));
  return selector.add(...present.map((k) => newRequirement(k, operator, [labels[k]])));
}

function makeTerm(pod: corev1.Pod, labels: Labels, t: corev1.PodAffinityTerm): AffinityTerm {
  let selector = labelSelectorAsSelector(t.labelSelector);
  if (t.labelSelector) {
    selector = withLabelValues(selector, 'in', labels, t.matchLabelKeys);
    selector = withLabelValues(selector, 'notin', labels, t.mismatchLabelKeys);
  }
  const own = pod.metadata?.namespace ?? '';
  const names = t.namespaces ?? [];
  const namespaces = new Set(names.length === 0 && !t.namespaceSelector ? [own] : names);
  const namespaceSelector = labelSelectorAsSelector(t.namespaceSelector);
  const podSetKey = `${[...namespaces].sort().join(',')}#${selectorKey(namespaceSelector)}#${selectorKey(selector)}`;
  return { topologyKey: t.topologyKey ?? '', selector, namespaces, namespaceSelector, podSetKey };
}

function weighted(pod: corev1.Pod, labels: Labels, terms: corev1.WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] {
  const out: WeightedAffinityTerm[] = [];
  for (const w of terms ?? []) {
    if (!w.podAffinityTerm || !w.weight) continue;
    out.push({ ...makeTerm(pod, labels, w.podAffinityTerm), weight: w.weight });
  }
  return out;
}

export class PodInfo {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Labels;
  readonly priority: number;
  readonly schedulerName: string;
  /** The node it is bound to ('' when pending). */
  readonly nodeName: string;
  /** Being deleted (deletionTimestamp set). */
  readonly terminating: boolean;
  readonly requests: ComputeResources;
  readonly nonZeroMilliCpu: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  readonly tolerations: readonly corev1.Toleration[];
  readonly requiredAffinityTerms: readonly AffinityTerm[] = EMPTY;
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[] = EMPTY;
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[] = EMPTY;
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[] = EMPTY;
  /** Why the pod cannot be evaluated (a malformed quantity or selector); undefined when fine. */
  problem: string | undefined;

  private compiled = false;
  private _requiredNodeAffinity?: RequiredNodeAffinity;
  private _preferredNodeAffinity?: PreferredNodeAffinity;
  private _spread: readonly SpreadConstraint[] = EMPTY;

  constructor(readonly pod: corev1.Pod) {
    const meta = pod.metadata ?? {};
    const spec = pod.spec ?? {};
    this.namespace = meta.namespace ?? '';
    this.name = meta.name ?? '';
    this.key = this.namespace ? `${this.namespace}/${this.name}` : this.name;
    this.uid = meta.uid ?? '';
    this.labels = meta.labels ?? NO_LABELS;
    this.priority = spec.priority ?? 0;
    this.schedulerName = spec.schedulerName || DEFAULT_SCHEDULER_NAME;
    this.nodeName = spec.nodeName ?? '';
    this.terminating = !!meta.deletionTimestamp;
    this.tolerations = spec.tolerations ?? EMPTY;
    const ports: HostPort[] = [];
    for (const c of spec.containers ?? []) {
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0) ports.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
      }
    }
    this.hostPorts = ports.length > 0 ? ports : EMPTY;
    let requests = emptyComputeResources();
    let nzCpu = 0;
    let nzMem = 0;
    try {
      const r = podSchedulingRequests(pod);
      requests = r.requests;
      nzCpu = r.nonZeroMilliCpu;
      nzMem = r.nonZeroMemory;
    } catch (err) {
      this.problem = `pod ${this.key}: ${(err as Error).message}`;
    }
    this.requests = requests;
    this.nonZeroMilliCpu = nzCpu;
    this.nonZeroMemory = nzMem;
    const pa = spec.affinity?.podAffinity;
    const paa = spec.affinity?.podAntiAffinity;
    if (pa || paa) {
      try {
        const req = (terms: corev1.PodAffinityTerm[] | undefined) => (terms ?? []).map((t) => makeTerm(pod, this.labels, t));
        this.requiredAffinityTerms = req(pa?.requiredDuringSchedulingIgnoredDuringExecution);
        this.requiredAntiAffinityTerms = req(paa?.requiredDuringSchedulingIgnoredDuringExecution);
        this.preferredAffinityTerms = weighted(pod, this.labels, pa?.preferredDuringSchedulingIgnoredDuringExecution);
        this.preferredAntiAffinityTerms = weighted(pod, this.labels, paa?.preferredDuringSchedulingIgnoredDuringExecution);
      } catch (err) {
        this.problem ??= `pod ${this.key}: pod affinity: ${(err as Error).message}`;
      }
    }
  }

  /** True when the pod has pod affinity or anti-affinity terms of any kind. */
  get hasPodAffinity(): boolean {
    return (
      this.requiredAffinityTerms.length > 0 ||
      this.requiredAntiAffinityTerms.length > 0 ||
      this.preferredAffinityTerms.length > 0 ||
      this.preferredAntiAffinityTerms.length > 0
    );
  }

  /**
   * Compiles what only a pod being scheduled needs (node affinity, spread constraints).
   * Idempotent; a malformed spec sets `problem` instead of throwing.
   */
  prepareForScheduling(): void {
    if (this.compiled) return;
    this.compiled = true;
    const spec = this.pod.spec;
    try {
      this._requiredNodeAffinity = new RequiredNodeAffinity(spec);
      this._preferredNodeAffinity = new PreferredNodeAffinity(spec);
      const constraints = spec?.topologySpreadConstraints ?? [];
      if (constraints.length > 0) this._spread = constraints.map((c) => this.spreadConstraint(c));
    } catch (err) {
      this._requiredNodeAffinity = undefined;
      this._preferredNodeAffinity = undefined;
      this._spread = EMPTY;
      this.problem ??= `pod ${this.key}: ${(err as Error).message}`;
    }
  }

  private spreadConstraint(c: corev1.TopologySpreadConstraint): SpreadConstraint {
    const when = c.whenUnsatisfiable ?? '';
    if (when !== 'DoNotSchedule' && when !== 'ScheduleAnyway') {
      throw new Error(`topology spread constraint: whenUnsatisfiable "${when}" is not one of DoNotSchedule, ScheduleAnyway`);
    }
    if (!c.topologyKey) throw new Error('topology spread constraint: topologyKey is required');
    if (!c.maxSkew || c.maxSkew < 1) throw new Error(`topology spread constraint: maxSkew must be at least 1 (got ${c.maxSkew ?? 0})`);
    const selector = withLabelValues(labelSelectorAsSelector(c.labelSelector), '=', this.labels, c.matchLabelKeys);
    return {
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      whenUnsatisfiable: when,
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
    };
  }

  /** Required node affinity and nodeSelector (after prepareForScheduling). */
  get requiredNodeAffinity(): RequiredNodeAffinity {
    if (!this._requiredNodeAffinity) this._requiredNodeAffinity = new RequiredNodeAffinity(undefined);
    return this._requiredNodeAffinity;
  }

  /** Preferred node affinity (after prepareForScheduling). */
  get preferredNodeAffinity(): PreferredNodeAffinity {
    if (!this._preferredNodeAffinity) this._preferredNodeAffinity = new PreferredNodeAffinity(undefined);
    return this._preferredNodeAffinity;
  }

  /** Topology spread constraints (after prepareForScheduling). */
  get spreadConstraints(): readonly SpreadConstraint[] {
    return this._spread;
  }
}
