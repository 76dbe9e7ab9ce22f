// Validation building blocks shared by the strategies: a collector of field errors with
// Kubernetes' wording ("Required value", "Invalid value: ...", "Unsupported value: ..."),
// and the name, label, port, quantity and selector checks of Kubernetes' apimachinery.
import type { metav1 } from '@k8ts/api';
import type { FieldError } from '../errors';

/** Renders a value the way field errors show it: strings quoted, numbers bare. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'null';
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** Collects every field error of an object; the registry turns a non-empty list into one INVALID_ARGUMENT. */
export class ErrorList {
  readonly errors: FieldError[] = [];

  get length(): number {
    return this.errors.length;
  }

  add(field: string, type: string, message: string): this {
    this.errors.push({ field, type, message });
    return this;
  }
  required(field: string, detail = ''): this {
    return this.add(field, 'FieldValueRequired', detail ? `Required value: ${detail}` : 'Required value');
  }
  invalid(field: string, value: unknown, detail: string): this {
    return this.add(field, 'FieldValueInvalid', `Invalid value: ${showValue(value)}${detail ? `: ${detail}` : ''}`);
  }
  notSupported(field: string, value: unknown, supported: readonly string[]): this {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    return this.add(field, 'FieldValueNotSupported', `Unsupported value: ${showValue(value)}: supported values: ${list}`);
  }
  duplicate(field: string, value: unknown): this {
    return this.add(field, 'FieldValueDuplicate', `Duplicate value: ${showValue(value)}`);
  }
  forbidden(field: string, detail: string): this {
    return this.add(field, 'FieldValueForbidden', `Forbidden: ${detail}`);
  }
  tooLong(field: string, max: number): this {
    return this.add(field, 'FieldValueTooLong', `Too long: may not be more than ${max} bytes`);
  }
  tooMany(field: string, actual: number, max: number): this {
    return this.add(field, 'FieldValueTooMany', `Too many: ${actual}: must have at most ${max} items`);
  }
  /** Adds one FieldValueInvalid per message of a name check (isDNS1123Label, ...). */
  invalidEach(field: string, value: unknown, messages: string[]): this {
    for (const m of messages) this.invalid(field, value, m);
    return this;
  }
  /** An immutable field was changed. */
  immutable(field: string, value: unknown): this {
    return this.invalid(field, value, 'field is immutable');
  }
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const IANA_SVC_NAME = /^[-a-z0-9]+$/;

const MSG_DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const MSG_DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const MSG_DNS1035_LABEL =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const MSG_QUALIFIED_NAME =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const MSG_LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const MSG_ENV_VAR_NAME =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
const MSG_CONFIG_KEY =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const maxLen = (n: number) => `must be no more than ${n} characters`;

export function isDNS1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(maxLen(63));
  if (!DNS1123_LABEL.test(v)) out.push(MSG_DNS1123_LABEL);
  return out;
}

export function isDNS1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push(maxLen(253));
  if (!DNS1123_SUBDOMAIN.test(v)) out.push(MSG_DNS1123_SUBDOMAIN);
  return out;
}

export function isDNS1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(maxLen(63));
  if (!DNS1035_LABEL.test(v)) out.push(MSG_DNS1035_LABEL);
  return out;
}

/** A label or annotation key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export function isQualifiedName(v: string): string[] {
  const out: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) {
    const [prefix] = parts;
    name = parts[1];
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else for (const m of isDNS1123Subdomain(prefix)) out.push(`prefix part ${m}`);
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push(`name part ${maxLen(63)}`);
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) out.push(MSG_QUALIFIED_NAME);
  return out;
}

export function isValidLabelValue(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(maxLen(63));
  if (!LABEL_VALUE.test(v)) out.push(MSG_LABEL_VALUE);
  return out;
}

export function isEnvVarName(v: string): string[] {
  return ENV_VAR_NAME.test(v) ? [] : [MSG_ENV_VAR_NAME];
}

export function isConfigMapKey(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push(maxLen(253));
  if (!CONFIG_KEY.test(v)) out.push(MSG_CONFIG_KEY);
  if (v === '.') out.push("must not be '.'");
  else if (v === '..') out.push("must not be '..'");
  else if (v.startsWith('..')) out.push("must not start with '..'");
  return out;
}

/** A port name (IANA_SVC_NAME): at most 15 lowercase alphanumerics and '-', with a letter. */
export function isValidPortName(v: string): string[] {
  const out: string[] = [];
  if (v.length > 15) out.push(maxLen(15));
  if (!IANA_SVC_NAME.test(v)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (v.includes('--')) out.push('must not contain consecutive hyphens');
  if (!/[a-z]/.test(v)) out.push('must contain at least one letter (a-z)');
  if (v.startsWith('-') || v.endsWith('-')) out.push('must not begin or end with a hyphen');
  return out;
}

export function isValidPortNum(n: number): string[] {
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** A name usable as one segment of a path (RBAC objects): not '.', '..', no '/' or '%'. */
export function isPathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const out: string[] = [];
  for (const bad of ['/', '%']) if (v.includes(bad)) out.push(`may not contain '${bad}'`);
  return out;
}

export function isIPv4(v: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  if (!m) return false;
  return m.slice(1).every((p) => Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

export function isIP(v: string): boolean {
  if (isIPv4(v)) return true;
  return /^[0-9a-fA-F:.]+$/.test(v) && v.includes(':') && v.split('::').length <= 2;
}

export function isCIDR(v: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(v);
  if (!m) return false;
  const bits = Number(m[2]);
  if (isIPv4(m[1])) return bits <= 32;
  return isIP(m[1]) && bits <= 128;
}

// ---------------------------------------------------------------------------------------
// Quantities
// ---------------------------------------------------------------------------------------

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** The numeric value of a Kubernetes quantity ("500m" -> 0.5, "1Gi" -> 1073741824); undefined when malformed. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const s = m[2] ?? '';
  if (s.startsWith('e') || s.startsWith('E')) return n * 10 ** Number(s.slice(1));
  return n * SUFFIX[s];
}

/** Checks a resource list (requests or limits): valid resource names, non-negative quantities. */
export function validateResourceList(list: Record<string, metav1.Quantity> | undefined, path: string, errs: ErrorList): void {
  for (const [name, q] of Object.entries(list ?? {})) {
    const p = `${path}[${name}]`;
    for (const m of isQualifiedName(name)) errs.invalid(p, name, m);
    const v = parseQuantity(q.value ?? '');
    if (v === undefined) errs.invalid(p, q.value, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    else if (v < 0) errs.invalid(p, q.value, 'must be greater than or equal to 0');
  }
}

// ---------------------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------------------

const TOTAL_ANNOTATION_BYTES = 256 * 1024;

export function validateLabels(labels: Record<string, string> | undefined, path: string, errs: ErrorList): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.invalidEach(path, k, isQualifiedName(k));
    errs.invalidEach(`${path}[${k}]`, v, isValidLabelValue(v));
  }
}

export function validateAnnotations(ann: Record<string, string> | undefined, path: string, errs: ErrorList): void {
  let total = 0;
  for (const [k, v] of Object.entries(ann ?? {})) {
    errs.invalidEach(path, k, isQualifiedName(k.toLowerCase()));
    total += k.length + v.length;
  }
  if (total > TOTAL_ANNOTATION_BYTES) errs.tooLong(path, TOTAL_ANNOTATION_BYTES);
}

export type NameCheck = (name: string) => string[];

/**
 * The common checks of ObjectMeta on create and update: name (or generateName) valid for the
 * kind, namespace present exactly when the kind is namespaced, labels, annotations, owner
 * references and finalizers.
 */
export function validateObjectMeta(
  meta: metav1.ObjectMeta,
  opts: { namespaced: boolean; nameCheck: NameCheck },
  errs: ErrorList,
  path = 'metadata',
): void {
  const name = meta.name ?? '';
  if (name === '') {
    if (!meta.generateName) errs.required(`${path}.name`, 'name or generateName is required');
  } else errs.invalidEach(`${path}.name`, name, opts.nameCheck(name));
  if (meta.generateName) {
    // A generated name appends 5 characters: check the prefix with a stand-in suffix.
    const trimmed = meta.generateName.replace(/-$/, '');
    if (trimmed !== '') errs.invalidEach(`${path}.generateName`, meta.generateName, opts.nameCheck(trimmed));
  }
  const ns = meta.namespace ?? '';
  if (opts.namespaced) {
    if (ns === '') errs.required(`${path}.namespace`);
    else errs.invalidEach(`${path}.namespace`, ns, isDNS1123Label(ns));
  } else if (ns !== '') errs.forbidden(`${path}.namespace`, 'not allowed on this type');
  validateLabels(meta.labels, `${path}.labels`, errs);
  validateAnnotations(meta.annotations, `${path}.annotations`, errs);
  let controllers = 0;
  (meta.ownerReferences ?? []).forEach((o, i) => {
    const p = `${path}.ownerReferences[${i}]`;
    if (!o.apiVersion) errs.invalid(`${p}.apiVersion`, o.apiVersion ?? '', 'version must not be empty');
    if (!o.kind) errs.invalid(`${p}.kind`, o.kind ?? '', 'kind must not be empty');
    if (!o.name) errs.invalid(`${p}.name`, o.name ?? '', 'name must not be empty');
    if (!o.uid) errs.invalid(`${p}.uid`, o.uid ?? '', 'uid must not be empty');
    if (o.controller) controllers++;
  });
  if (controllers > 1) {
    errs.invalid(`${path}.ownerReferences`, meta.ownerReferences, 'Only one reference can have Controller set to true');
  }
  const seen = new Set<string>();
  (meta.finalizers ?? []).forEach((f, i) => {
    errs.invalidEach(`${path}.finalizers[${i}]`, f, isQualifiedName(f));
    if (seen.has(f)) errs.duplicate(`${path}.finalizers[${i}]`, f);
    seen.add(f);
  });
}

/** Checks a LabelSelector: valid keys and values, known operators, values present as the operator needs. */
export function validateLabelSelector(sel: metav1.LabelSelector | undefined, path: string, errs: ErrorList): void {
  if (!sel) return;
  validateLabels(sel.matchLabels, `${path}.matchLabels`, errs);
  (sel.matchExpressions ?? []).forEach((r, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    errs.invalidEach(`${p}.key`, r.key, isQualifiedName(r.key ?? ''));
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\'');
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
        break;
      default:
        errs.notSupported(`${p}.operator`, r.operator ?? '', ['In', 'NotIn', 'Exists', 'DoesNotExist']);
    }
    values.forEach((v, j) => {
      errs.invalidEach(`${p}.values[${j}]`, v, isValidLabelValue(v));
    });
  });
}

/** Whether a LabelSelector (the structured form) matches a label set. A null selector matches nothing. */
export function labelSelectorMatches(sel: metav1.LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, r.key ?? '');
    const v = labels[r.key ?? ''];
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (!has || !values.includes(v)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(v)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** The string form of a LabelSelector ("app=web,tier in (a,b)"), as the Scale subresource reports it. */
export function formatLabelSelector(sel: metav1.LabelSelector | undefined): string {
  if (!sel) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) parts.push(`${k}=${v}`);
  for (const r of sel.matchExpressions ?? []) {
    const values = [...(r.values ?? [])].sort().join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${values})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${values})`);
    else if (r.operator === 'Exists') parts.push(`${r.key}`);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
  }
  return parts.join(',');
}

/** Checks a value from an enumeration, reporting FieldValueNotSupported. Empty counts as missing (required). */
export function validateEnum(value: string | undefined, allowed: readonly string[], path: string, errs: ErrorList, required = true): void {
  if (value === undefined || value === '') {
    if (required) errs.required(path);
    return;
  }
  if (!allowed.includes(value)) errs.notSupported(path, value, allowed);
}

/** Non-negative integer check with Kubernetes' wording. */
export function validateNonNegative(value: number | undefined, path: string, errs: ErrorList): void {
  if (value !== undefined && value < 0) errs.invalid(path, value, 'must be greater than or equal to 0');
}
