// Checks that a value fits its type before apply walks it (structured-merge-diff's validation
// of an applied configuration): every field is declared by the schema, objects, lists and
// scalars are where the schema puts them, set and map-list elements can be named, and — unless
// duplicates are allowed, as they are in stored objects — no two elements share a name.
// Problems carry the path as Kubernetes prints it: .spec.containers[name="web"].image
import { indexList } from './elements';
import { type JsonValue, describeValue, isJsonObject } from './json';
import { pathElementToString } from './path';
import type { TypeRef, TypeResolver } from './types';

export interface ValueProblem {
  /** The path as Kubernetes prints it (".spec.foo"); '' for the object itself. */
  readonly path: string;
  readonly reason: string;
}

function scalarProblem(ref: Extract<TypeRef, { kind: 'scalar' }>, v: JsonValue): string | undefined {
  switch (ref.valueKind) {
    case 'string':
    case 'timestamp':
    case 'bytes':
      return typeof v === 'string' ? undefined : `expected string, got ${describeValue(v)}`;
    case 'integer':
    case 'number':
      return typeof v === 'number' ? undefined : `expected numeric (int or float), got ${describeValue(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `expected boolean, got ${describeValue(v)}`;
    case 'intOrString':
    case 'quantity':
      return typeof v === 'string' || typeof v === 'number' ? undefined : `expected a string or a number, got ${describeValue(v)}`;
    case 'rawJson':
    case 'message':
      return undefined;
  }
}

class Validator {
  readonly problems: ValueProblem[] = [];
  constructor(
    private readonly types: TypeResolver,
    private readonly allowDuplicates: boolean,
  ) {}

  value(ref: TypeRef, v: JsonValue, path: string): void {
    if (v === null) return; // null is a valid value of every type: "unset"
    if (ref.kind === 'scalar') {
      const reason = scalarProblem(ref, v);
      if (reason) this.problems.push({ path, reason });
    } else if (ref.kind === 'list') this.list(ref, v, path);
    else this.object(ref, v, path);
  }

  private list(ref: Extract<TypeRef, { kind: 'list' }>, v: JsonValue, path: string): void {
    if (!Array.isArray(v)) {
      this.problems.push({ path, reason: `expected list, got ${describeValue(v)}` });
      return;
    }
    if (ref.listType === 'atomic') {
      v.forEach((item, i) => {
        this.value(ref.element, item, `${path}[${i}]`);
      });
      return;
    }
    const reasons: string[] = [];
    const named = indexList(ref, v, reasons);
    for (const reason of reasons) this.problems.push({ path, reason });
    for (const { pe, items } of named.values()) {
      if (items.length > 1 && !this.allowDuplicates) this.problems.push({ path, reason: `duplicate entries for key ${pathElementToString(pe)}` });
      for (const item of items) this.value(ref.element, item, `${path}${pathElementToString(pe)}`);
    }
  }

  private object(ref: Extract<TypeRef, { kind: 'struct' | 'map' }>, v: JsonValue, path: string): void {
    if (!isJsonObject(v)) {
      this.problems.push({ path, reason: `expected map, got ${describeValue(v)}` });
      return;
    }
    for (const [key, child] of Object.entries(v)) {
      const childPath = `${path}.${key}`;
      const childRef = this.types.child(ref, key);
      if (!childRef) this.problems.push({ path: childPath, reason: 'field not declared in schema' });
      else this.value(childRef, child, childPath);
    }
  }
}

/** Every problem of a value against its type (an empty list: it fits). */
export function validateValue(types: TypeResolver, ref: TypeRef, v: JsonValue, opts: { allowDuplicates: boolean }): ValueProblem[] {
  const validator = new Validator(types, opts.allowDuplicates);
  validator.value(ref, v, '');
  return validator.problems;
}

/** The problems in structured-merge-diff's words: "<path>: <reason>", or "errors:\n  ..." for several. */
export function formatProblems(problems: readonly ValueProblem[]): string {
  const lines = problems.map((p) => (p.path ? `${p.path}: ${p.reason}` : p.reason));
  return lines.length === 1 ? lines[0] : ['errors:', ...lines.map((l) => `  ${l}`)].join('\n');
}

/** A value that does not fit its type: every problem with its path. */
export class SchemaMismatchError extends Error {
  constructor(
    readonly typeName: string,
    readonly problems: ValueProblem[],
  ) {
    super(`the object does not fit ${typeName}: ${formatProblems(problems)}`);
    this.name = 'SchemaMismatchError';
  }
}
