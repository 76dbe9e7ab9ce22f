// Label selectors compiled once per pod and matched many times per scheduling cycle. The
// matcher is a flat list of requirements with Sets for In/NotIn, a canonical string (the
// identity of a selector, used as a cache key by the scheduler cache's counters), and the
// equality requirements (key=value pairs that every matching object must carry), which the
// cache uses to index selectors by label.
import type { metav1 } from '@k8ts/api';

export type Labels = Readonly<Record<string, string>>;

export const NO_LABELS: Labels = Object.freeze({});

type Op = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

export interface Requirement {
  readonly key: string;
  readonly op: Op;
  /** For In/NotIn; for a single value `value` is used instead. */
  readonly values: ReadonlySet<string>;
  readonly value: string | undefined;
  /** For Gt/Lt. */
  readonly bound: number;
}

/** A selector that does not compile (unknown operator, missing values). */
export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

/** A compiled label selector. */
export class LabelMatcher {
  /** Canonical form: equal selectors have equal keys. '<nothing>' for the selector matching nothing. */
  readonly key: string;
  /** key=value pairs every matching object carries (from matchLabels and single-value In). */
  readonly equalities: ReadonlyArray<readonly [string, string]>;

  /** Use the static factories; the requirements must be sorted (sortReqs). */
  constructor(
    private readonly reqs: readonly Requirement[],
    /** True for the selector that matches nothing (an absent LabelSelector). */
    readonly nothing: boolean,
  ) {
    this.key = nothing ? '<nothing>' : reqs.map(requirementKey).join(',');
    const eq: [string, string][] = [];
    for (const r of reqs) if (r.op === 'In' && r.value !== undefined) eq.push([r.key, r.value]);
    this.equalities = eq;
  }

  /** The compiled requirements, sorted by key. */
  get requirements(): readonly Requirement[] {
    return this.reqs;
  }

  /** True for the selector with no requirements (it matches everything). */
  get empty(): boolean {
    return !this.nothing && this.reqs.length === 0;
  }

  matches(labels: Labels | undefined): boolean {
    if (this.nothing) return false;
    const reqs = this.reqs;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i];
      const v = labels?.[r.key];
      switch (r.op) {
        case 'In':
          if (v === undefined || (r.value !== undefined ? v !== r.value : !r.values.has(v))) return false;
          break;
        case 'NotIn':
          if (v !== undefined && (r.value !== undefined ? v === r.value : r.values.has(v))) return false;
          break;
        case 'Exists':
          if (v === undefined) return false;
          break;
        case 'DoesNotExist':
          if (v !== undefined) return false;
          break;
        case 'Gt':
        case 'Lt': {
          if (v === undefined || !/^-?\d+$/.test(v)) return false;
          const n = Number(v);
          if (r.op === 'Gt' ? !(n > r.bound) : !(n < r.bound)) return false;
          break;
        }
      }
    }
    return true;
  }

  /** This selector with more requirements (key In [value] for each pair) added. */
  withEqualities(pairs: ReadonlyArray<readonly [string, string]>, notIn = false): LabelMatcher {
    if (this.nothing || pairs.length === 0) return this;
    const extra = pairs.map(([k, v]) => requirement(k, notIn ? 'NotIn' : 'In', [v]));
    return new LabelMatcher(sortReqs([...this.reqs, ...extra]), false);
  }

  static readonly EVERYTHING = new LabelMatcher([], false);
  static readonly NOTHING = new LabelMatcher([], true);

  /** key=value for every entry of `set`. */
  static fromSet(set: Labels | undefined): LabelMatcher {
    const entries = Object.entries(set ?? {});
    if (entries.length === 0) return LabelMatcher.EVERYTHING;
    return new LabelMatcher(sortReqs(entries.map(([k, v]) => requirement(k, 'In', [v]))), false);
  }

  /**
   * Compiles a metav1.LabelSelector: undefined matches nothing, {} matches everything (as
   * Kubernetes' LabelSelectorAsSelector). Throws a SelectorError for a malformed selector.
   */
  static fromLabelSelector(sel: metav1.LabelSelector | undefined | null): LabelMatcher {
    if (sel === undefined || sel === null) return LabelMatcher.NOTHING;
    const reqs: Requirement[] = [];
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push(requirement(k, 'In', [v]));
    for (const e of sel.matchExpressions ?? []) {
      const op = e.operator ?? '';
      if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') {
        throw new SelectorError(`label selector: operator "${op}" of key "${e.key ?? ''}" is not one of In, NotIn, Exists, DoesNotExist`);
      }
      reqs.push(requirement(e.key ?? '', op, e.values ?? []));
    }
    if (reqs.length === 0) return LabelMatcher.EVERYTHING;
    return new LabelMatcher(sortReqs(reqs), false);
  }
}

function requirement(key: string, op: Op, values: readonly string[]): Requirement {
  if (key === '') throw new SelectorError('label selector: a requirement has an empty key');
  if ((op === 'In' || op === 'NotIn') && values.length === 0) {
    throw new SelectorError(`label selector: operator ${op} of key "${key}" needs at least one value`);
  }
  if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
    throw new SelectorError(`label selector: operator ${op} of key "${key}" takes no values`);
  }
  let bound = 0;
  if (op === 'Gt' || op === 'Lt') {
    if (values.length !== 1 || !/^-?\d+$/.test(values[0])) {
      throw new SelectorError(`operator ${op} of key "${key}" needs exactly one integer value`);
    }
    bound = Number(values[0]);
  }
  const set = new Set(values);
  return { key, op, values: set, value: set.size === 1 ? values[0] : undefined, bound };
}

function sortReqs(reqs: Requirement[]): Requirement[] {
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.op < b.op ? -1 : a.op > b.op ? 1 : 0));
}

function requirementKey(r: Requirement): string {
  const values = [...r.values].sort().join('|');
  return `${r.key}~${r.op}~${values}`;
}

/**
 * A node selector requirement (NodeAffinity matchExpressions / matchFields): operators In,
 * NotIn, Exists, DoesNotExist, Gt, Lt. Compiled into a LabelMatcher of one requirement.
 */
export function nodeSelectorRequirement(key: string, op: string, values: readonly string[]): LabelMatcher {
  if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist' && op !== 'Gt' && op !== 'Lt') {
    throw new SelectorError(`node selector: operator "${op}" of key "${key}" is not one of In, NotIn, Exists, DoesNotExist, Gt, Lt`);
  }
  return compose([requirement(key, op, values)]);
}

/** ANDs several matchers (none matches everything). */
export function allOf(matchers: readonly LabelMatcher[]): LabelMatcher {
  if (matchers.some((m) => m.nothing)) return LabelMatcher.NOTHING;
  const reqs: Requirement[] = [];
  for (const m of matchers) reqs.push(...m.requirements);
  return compose(sortReqs(reqs));
}

function compose(reqs: Requirement[]): LabelMatcher {
  return reqs.length === 0 ? LabelMatcher.EVERYTHING : new LabelMatcher(reqs, false);
}
