// Label selectors as values: requirements ANDed, kept sorted by key (Kubernetes'
// labels.Selector). Two special selectors: everything (no requirements, matches every label
// set) and nothing (from a missing metav1.LabelSelector, matches none); both print as "".
// A selector is compiled when made (In/NotIn values in a Set, gt/lt bounds parsed), so that
// matching it against many label sets costs a few lookups each.
import type { CompiledRequirement, LabelRequirement, Labels } from './requirement';
import { compileRequirement, newRequirement, requirementMatches, requirementString } from './requirement';

/** A label selector: requirements that must all hold. */
export interface LabelSelector {
  /** The requirements, sorted by key (none for everything and for nothing). */
  readonly requirements: readonly LabelRequirement[];
  /** True when the labels satisfy every requirement (never for nothing). */
  matches(labels: Labels | undefined | null): boolean;
  /** Selector.Empty(): no requirements, so it matches every label set. */
  isEverything(): boolean;
  /** labels.MatchesNothing: the selector of a missing LabelSelector. */
  isNothing(): boolean;
  /** The value the selector requires `key` to have (=, == or in with one value), if any. */
  requiresExactMatch(key: string): string | undefined;
  /** This selector with more requirements (nothing stays nothing). */
  add(...requirements: LabelRequirement[]): LabelSelector;
  /** Selector.String(): "app=web,!legacy,tier in (a,b)"; "" for everything and for nothing. */
  toString(): string;
}

/** The order of requirements in a selector (Kubernetes' ByKey). */
export function byKey(a: LabelRequirement, b: LabelRequirement): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  private readonly compiled: readonly CompiledRequirement[];

  constructor(requirements: readonly LabelRequirement[]) {
    this.requirements = Object.freeze([...requirements].sort(byKey));
    this.compiled = this.requirements.map(compileRequirement);
  }

  matches(labels: Labels | undefined | null): boolean {
    const compiled = this.compiled;
    for (let i = 0; i < compiled.length; i++) if (!requirementMatches(compiled[i], labels)) return false;
    return true;
  }

  isEverything(): boolean {
    return this.requirements.length === 0;
  }

  isNothing(): boolean {
    return false;
  }

  requiresExactMatch(key: string): string | undefined {
    // Kubernetes looks at the first requirement on the key only.
    const r = this.requirements.find((x) => x.key === key);
    const exact = r !== undefined && r.values.length === 1 && (r.operator === '=' || r.operator === '==' || r.operator === 'in');
    return exact ? r.values[0] : undefined;
  }

  add(...requirements: LabelRequirement[]): LabelSelector {
    return requirements.length === 0 ? this : new RequirementsSelector([...this.requirements, ...requirements]);
  }

  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

class NothingSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[] = Object.freeze([]);
  matches(): boolean {
    return false;
  }
  isEverything(): boolean {
    return false;
  }
  isNothing(): boolean {
    return true;
  }
  requiresExactMatch(): string | undefined {
    return undefined;
  }
  add(): LabelSelector {
    return this;
  }
  toString(): string {
    return '';
  }
}

const EVERYTHING: LabelSelector = new RequirementsSelector([]);
const NOTHING: LabelSelector = new NothingSelector();

/** labels.Everything(): the selector that matches every label set. */
export function everything(): LabelSelector {
  return EVERYTHING;
}

/** labels.Nothing(): the selector that matches no label set. */
export function nothing(): LabelSelector {
  return NOTHING;
}

/**
 * labels.SelectorFromSet: key=value for every label of `set` (an empty or missing set selects
 * everything). Like Kubernetes it trusts the set (an object's labels, already validated);
 * validatedSelectorFromSet checks it.
 */
export function selectorFromSet(set: Labels | undefined | null): LabelSelector {
  const entries = Object.entries(set ?? {});
  if (entries.length === 0) return EVERYTHING;
  return new RequirementsSelector(entries.map(([key, value]): LabelRequirement => Object.freeze({ key, operator: '=', values: Object.freeze([value]) })));
}

/** labels.ValidatedSelectorFromSet: selectorFromSet, throwing a SelectorError for a bad key or value. */
export function validatedSelectorFromSet(set: Labels | undefined | null): LabelSelector {
  const entries = Object.entries(set ?? {});
  return new RequirementsSelector(entries.map(([key, value]) => newRequirement(key, '=', [value])));
}

/** A selector of requirements, each checked as newRequirement checks it. */
export function selectorFromRequirements(requirements: readonly LabelRequirement[]): LabelSelector {
  return new RequirementsSelector(requirements.map((r) => newRequirement(r.key, r.operator, r.values)));
}

/** A selector of requirements that newRequirement made (not checked again). */
export function selectorFromCheckedRequirements(requirements: readonly LabelRequirement[]): LabelSelector {
  return requirements.length === 0 ? EVERYTHING : new RequirementsSelector(requirements);
}

/** labels.FormatLabels: "k=v" pairs sorted by key and joined by ",", or "<none>". */
export function formatLabels(labels: Labels | undefined | null): string {
  const text = Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels![k]}`)
    .join(',');
  return text === '' ? '<none>' : text;
}
