// Anchors: the keys under which the cache indexes pods (by each label pair and by namespace)
// and under which it files pod selectors (by one label pair or namespace that every pod they
// select must have). A selector is then only ever compared with pods that share its anchor,
// instead of with every pod in the cluster.
import type { LabelSelector } from '@k8ts/machinery';
import type { PodInfo } from '../podinfo';

/** The anchor of a label pair. */
export function labelAnchor(key: string, value: string): string {
  return `l\u0000${key}\u0000${value}`;
}

/** The anchor of a namespace. */
export function namespaceAnchor(namespace: string): string {
  return `n\u0000${namespace}`;
}

/** Every anchor of a pod: one per label, and its namespace. */
export function podAnchors(pod: PodInfo): string[] {
  const out = [namespaceAnchor(pod.namespace)];
  const labels = pod.labels;
  for (const k in labels) out.push(labelAnchor(k, labels[k]));
  return out;
}

/** A set of pods given by namespaces and a label selector (an affinity term has this shape). */
export interface PodSetClause {
  readonly namespaces: ReadonlySet<string>;
  readonly namespaceSelector: LabelSelector;
  readonly selector: LabelSelector;
}

/**
 * The anchors a clause could be filed under: each equality of its selector, and its
 * namespace when it selects exactly one namespace by name. Empty when it has neither (it is
 * then compared with every pod).
 */
export function clauseAnchors(c: PodSetClause): string[] {
  const out: string[] = [];
  for (const [k, v] of exactLabels(c.selector)) out.push(labelAnchor(k, v));
  if (c.namespaces.size === 1 && c.namespaceSelector.isNothing()) for (const ns of c.namespaces) out.push(namespaceAnchor(ns));
  return out;
}

/**
 * The label pairs every pod a selector selects carries: one per requirement that demands one
 * value ("=", "==", or "in" with a single value).
 */
export function exactLabels(selector: LabelSelector): [string, string][] {
  const out: [string, string][] = [];
  for (const r of selector.requirements) {
    if (r.values.length === 1 && (r.operator === '=' || r.operator === '==' || r.operator === 'in')) out.push([r.key, r.values[0]]);
  }
  return out;
}

/** The identity of a selector (a cache key): its text, "<nothing>" for the selector that matches nothing. */
export function selectorKey(selector: LabelSelector): string {
  return selector.isNothing() ? '<nothing>' : selector.toString();
}
