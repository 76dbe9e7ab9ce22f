// Label maps and label selectors as Kubernetes prints them. A map (a Service's selector, an
// object's labels) is labels.FormatLabels: "k=v" pairs sorted by key, "<none>" when empty. A
// LabelSelector is converted the way metav1.LabelSelectorAsSelector does and printed as
// labels.Selector.String(): requirements sorted by key, "k=v" for matchLabels, "k in (a,b)",
// "k notin (a,b)" (values sorted), "k" (Exists) and "!k" (DoesNotExist). A selector that does
// not convert (an unknown operator, a bad key or value) is an error the callers print as
// "<error>" or "<invalid>".
import { objectsAt, stringAt, stringMapAt, stringsAt } from './json';

/** labels.FormatLabels: sorted "k=v" pairs joined by commas, or "<none>". */
export function formatLabels(labels: Record<string, string>): string {
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
  return text === '' ? '<none>' : text;
}

interface Requirement {
  key: string;
  text: string;
}

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
function validKey(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && NAME_PART.test(name);
}

/** A label value: empty, or at most 63 alphanumerics with '-', '_', '.' inside. */
function validValue(value: string): boolean {
  return value === '' || (value.length <= 63 && NAME_PART.test(value));
}

/** labels.NewRequirement followed by Requirement.String(); undefined when it is invalid. */
function requirement(key: string, operator: string, values: string[]): Requirement | undefined {
  if (!validKey(key) || !values.every(validValue)) return undefined;
  const list = () => [...values].sort().join(',');
  switch (operator) {
    case 'Equals':
      return values.length === 1 ? { key, text: `${key}=${values[0]}` } : undefined;
    case 'In':
      return values.length > 0 ? { key, text: `${key} in (${list()})` } : undefined;
    case 'NotIn':
      return values.length > 0 ? { key, text: `${key} notin (${list()})` } : undefined;
    case 'Exists':
      return values.length === 0 ? { key, text: key } : undefined;
    case 'DoesNotExist':
      return values.length === 0 ? { key, text: `!${key}` } : undefined;
    default:
      return undefined;
  }
}

/**
 * The text of a metav1.LabelSelector as a labels.Selector: "" for an absent or empty selector
 * (Nothing / Everything), undefined when it does not convert.
 */
export function labelSelectorString(selector: unknown): string | undefined {
  if (selector === undefined || selector === null) return '';
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(stringMapAt(selector, 'matchLabels'))) {
    const r = requirement(k, 'Equals', [v]);
    if (!r) return undefined;
    reqs.push(r);
  }
  for (const expr of objectsAt(selector, 'matchExpressions')) {
    const r = requirement(stringAt(expr, 'key'), stringAt(expr, 'operator'), stringsAt(expr, 'values'));
    if (!r) return undefined;
    reqs.push(r);
  }
  // Selector.Add keeps the requirements sorted by key.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: the selector's text, "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(selector: unknown): string {
  const text = labelSelectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}
