// Printing objects in the formats of `get -o`: tables (default and wide), yaml, json, name
// and jsonpath. Objects are shown in their Kubernetes JSON form. Tables are the API server's:
// the objects become a meta.k8s.io/v1 Table with the printer columns of @k8ts/machinery, the
// same the server answers kubectl with, and are rendered the way kubectl renders one.
import * as YAML from 'yaml';
import { toK8sJson } from '@k8ts/api';
import type { KindInfo } from '@k8ts/api';
import { toTable } from '@k8ts/machinery';
import { CliError } from '../errors';
import { kindLabel } from '../resources';
import { formatTable } from './table';
import { renderTable } from './tablerows';

type Obj = Record<string, any>;

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json' | 'name' | 'jsonpath';

export interface OutputSpec {
  format: OutputFormat;
  /** The template of -o jsonpath=... */
  template?: string;
}

/** Parses the -o value. */
export function parseOutput(value: string | undefined): OutputSpec {
  if (!value) return { format: 'table' };
  if (value === 'wide' || value === 'yaml' || value === 'json' || value === 'name') return { format: value };
  const m = /^jsonpath=(.*)$/s.exec(value);
  if (m) return { format: 'jsonpath', template: m[1] };
  throw new CliError(
    `unable to match a printer suitable for the output format "${value}", allowed formats are: json,jsonpath,name,wide,yaml`,
  );
}

/** The Kubernetes JSON form of an object, with apiVersion and kind. */
export function toJson(kind: KindInfo, obj: object): Obj {
  const json = toK8sJson(kind.typeName, obj);
  const { apiVersion: _a, kind: _k, ...rest } = json;
  return { apiVersion: kind.apiVersion, kind: kind.kind, ...rest };
}

export function toYaml(value: unknown): string {
  return YAML.stringify(value, { lineWidth: 0, indentSeq: false });
}

/** `deployment.apps/web` */
export function objectName(kind: KindInfo, obj: Obj): string {
  return `${kindLabel(kind)}/${obj.metadata?.name ?? ''}`;
}

export interface TableOptions {
  wide?: boolean;
  /** Prefix rows with the NAMESPACE column (-A). */
  withNamespace?: boolean;
  /** Print names as kind/name (several kinds at once). */
  withKind?: boolean;
  showLabels?: boolean;
  noHeaders?: boolean;
  now?: number;
}

/** Header and rows of one kind's table. */
export function tableParts(kind: KindInfo, objs: Obj[], opts: TableOptions = {}): { headers: string[]; rows: string[][] } {
  const table = toTable(
    kind,
    objs.map((o) => toJson(kind, o)),
    { now: opts.now ?? Date.now(), includeObject: 'Metadata' },
  );
  return renderTable(table, {
    wide: opts.wide,
    withNamespace: opts.withNamespace && kind.namespaced,
    kindPrefix: opts.withKind ? kindLabel(kind) : undefined,
    showLabels: opts.showLabels,
  });
}

export function printTable(kind: KindInfo, objs: Obj[], opts: TableOptions = {}): string {
  const { headers, rows } = tableParts(kind, objs, opts);
  return formatTable(headers, rows, { noHeaders: opts.noHeaders });
}

/**
 * Evaluates a kubectl-style JSONPath template: literal text with `{...}` expressions such as
 * `{.spec.clusterIP}`, `{.items[*].metadata.name}`, `{.items[0].status.podIP}`,
 * `{.status.conditions[?(@.type=="Ready")].status}`; several results are joined by spaces.
 */
export function jsonPath(template: string, data: unknown): string {
  let out = '';
  let i = 0;
  let t = template;
  if (t.length >= 2 && ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"')))) t = t.slice(1, -1);
  while (i < t.length) {
    const open = t.indexOf('{', i);
    if (open < 0) {
      out += unescapeText(t.slice(i));
      break;
    }
    out += unescapeText(t.slice(i, open));
    const close = t.indexOf('}', open);
    if (close < 0) throw new CliError(`error parsing jsonpath ${template}: unclosed {`);
    const expr = t.slice(open + 1, close).trim();
    const values = evaluatePath(expr, data);
    out += values.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(' ');
    i = close + 1;
  }
  return out;
}

function unescapeText(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
}

function evaluatePath(expr: string, data: unknown): unknown[] {
  if (expr === '' || expr === '.' || expr === '@') return [data];
  let rest = expr.startsWith('$') ? expr.slice(1) : expr;
  let current: unknown[] = [data];
  const step = /^(?:\.([A-Za-z0-9_\-$]+)|\[(\*|-?\d+)\]|\[\?\(@\.([A-Za-z0-9_.]+)\s*==\s*["']([^"']*)["']\)\]|\['([^']+)'\]|\.\*)/;
  while (rest.length > 0) {
    const m = step.exec(rest);
    if (!m) throw new CliError(`error parsing jsonpath {${expr}}: unsupported syntax at "${rest}"`);
    rest = rest.slice(m[0].length);
    const next: unknown[] = [];
    for (const v of current) {
      if (v === null || v === undefined) continue;
      if (m[1] !== undefined || m[5] !== undefined) {
        const key = (m[1] ?? m[5]) as string;
        if (typeof v === 'object' && !Array.isArray(v) && key in (v as Obj)) next.push((v as Obj)[key]);
      } else if (m[2] !== undefined) {
        if (!Array.isArray(v)) continue;
        if (m[2] === '*') next.push(...v);
        else {
          const n = Number(m[2]);
          const item = v[n < 0 ? v.length + n : n];
          if (item !== undefined) next.push(item);
        }
      } else if (m[3] !== undefined) {
        if (!Array.isArray(v)) continue;
        for (const item of v) {
          const got = m[3].split('.').reduce<unknown>((acc, k) => (acc && typeof acc === 'object' ? (acc as Obj)[k] : undefined), item);
          if (String(got) === m[4]) next.push(item);
        }
      } else if (m[0] === '.*') {
        if (typeof v === 'object') next.push(...Object.values(v as Obj));
      }
    }
    current = next;
  }
  return current;
}

/** Wraps several objects as kubectl's List. */
export function asList(items: Obj[]): Obj {
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
}
