// Validation building blocks shared by the strategies: a collector of field errors with
// Kubernetes' wording ("Required value", "Invalid value: ...", "Unsupported value: ..."),
// and the name, label, port, quantity and selector checks of Kubernetes' apimachinery.
import type { metav1 } from '@k8ts/api';
import { Quantity, QuantityError, SelectorError, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, tryLabelSelectorAsSelector } from '@k8ts/machinery';
import { quoteValue, shortText } from '../errorlimits';
import type { FieldError } from '../errors';

/**
 * Renders a value the way field errors show it: strings quoted, numbers bare; a long value as
 * its first characters and its length (errorlimits.ts), so that no message carries a whole
 * large value back.
 */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return quoteValue(v);
  if (v === undefined) return 'null';
  try {
    return shortText(JSON.stringify(v));
  } catch {
    return shortText(String(v));
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
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const IANA_SVC_NAME = /^[-a-z0-9]+$/;

const MSG_DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const MSG_DNS1035_LABEL =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const MSG_ENV_VAR_NAME =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
const MSG_CONFIG_KEY =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const maxLen = (n: number) => `must be no more than ${n} characters`;

// Label keys and values, and DNS subdomains, are checked as selectors check them (kept once in
// @k8ts/machinery); re-exported for the strategies.
export { isDNS1123Subdomain, isQualifiedName, isValidLabelValue };

export function isDNS1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(maxLen(63));
  if (!DNS1123_LABEL.test(v)) out.push(MSG_DNS1123_LABEL);
  return out;
}

export function isDNS1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(maxLen(63));
  if (!DNS1035_LABEL.test(v)) out.push(MSG_DNS1035_LABEL);
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

/** The Quantity of a field (@k8ts/machinery's, Kubernetes' ParseQuantity), or the error that says why it is none. */
function parseFieldQuantity(q: metav1.Quantity | undefined): Quantity | QuantityError {
  try {
    return Quantity.parse(q?.value ?? '');
  } catch (err) {
    if (err instanceof QuantityError) return err;
    throw err;
  }
}

/** The Quantity of a field; undefined when malformed (validateResourceList reports it). */
export function fieldQuantity(q: metav1.Quantity | undefined): Quantity | undefined {
  const v = parseFieldQuantity(q);
  return v instanceof QuantityError ? undefined : v;
}

/** Checks a resource list (requests or limits): valid resource names, well-formed non-negative quantities. */
export function validateResourceList(list: Record<string, metav1.Quantity> | undefined, path: string, errs: ErrorList): void {
  for (const [name, q] of Object.entries(list ?? {})) {
    const p = `${path}[${name}]`;
    for (const m of isQualifiedName(name)) errs.invalid(p, name, m);
    const v = parseFieldQuantity(q);
    if (v instanceof QuantityError) errs.invalid(p, q.value, v.detail);
    else if (v.sign() < 0) errs.invalid(p, v.toString(), 'must be greater than or equal to 0');
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

/** Checks annotation keys, and their total size: keys and values in UTF-8 bytes, as Kubernetes counts (Go's len). */
export function validateAnnotations(ann: Record<string, string> | undefined, path: string, errs: ErrorList): void {
  let total = 0;
  for (const [k, v] of Object.entries(ann ?? {})) {
    errs.invalidEach(path, k, isQualifiedName(k.toLowerCase()));
    total += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
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

/**
 * Whether a selector that converts does not select `labels`: Kubernetes' "`selector` does not
 * match template `labels`" check, which it skips for a selector that does not convert (the
 * selector's own validation reports that).
 */
export function selectorMisses(sel: metav1.LabelSelector, labels: Record<string, string>): boolean {
  const selector = tryLabelSelectorAsSelector(sel);
  return !(selector instanceof SelectorError) && !selector.matches(labels);
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
