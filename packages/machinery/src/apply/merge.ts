// The merge of an applied configuration into the live object (structured-merge-diff's Merge
// with its keep-the-right-side rule): what the configuration sets wins, what it does not
// mention stays.
//   - scalars and atomic values: the configuration's value replaces the live one (null too);
//   - granular maps and structs: merged key by key;
//   - set and map lists: merged element by element, matched by name. The order follows the
//     configuration for the elements it names and keeps live-only elements where they were
//     relative to them (the algorithm of structured-merge-diff, so lists come out in the
//     order Kubernetes produces). Duplicated live elements that the configuration names are
//     replaced by the configuration's single element.
import { asList, indexListOrThrow, listElement } from './elements';
import { type JsonObject, type JsonValue, cloneJson, isJsonObject } from './json';
import { serializePathElement } from './path';
import { type TypeRef, type TypeResolver, isAtomic } from './types';

type ListRef = Extract<TypeRef, { kind: 'list' }>;
type ObjectRef = Extract<TypeRef, { kind: 'struct' | 'map' }>;

function isEmptyList(v: JsonValue | undefined): boolean {
  const l = asList(v);
  return !l || l.length === 0;
}

function isEmptyObject(v: JsonValue | undefined): boolean {
  return !isJsonObject(v) || Object.keys(v).length === 0;
}

/** The element name of each item of a list, in order (duplicates repeat their name). */
function namesInOrder(ref: ListRef, items: JsonValue[]): string[] {
  return items.map((item) => serializePathElement(listElement(ref, item)));
}

class Merger {
  constructor(private readonly types: TypeResolver) {}

  merge(ref: TypeRef, lhs: JsonValue | undefined, rhs: JsonValue | undefined): JsonValue | undefined {
    if (ref.kind === 'scalar') return this.leaf(lhs, rhs);
    if (ref.kind === 'list') {
      if (isAtomic(ref) || (isEmptyList(lhs) && isEmptyList(rhs))) return this.leaf(lhs, rhs);
      return this.list(ref, asList(lhs) ?? [], asList(rhs) ?? []);
    }
    if (isAtomic(ref) || (isEmptyObject(lhs) && isEmptyObject(rhs))) return this.leaf(lhs, rhs);
    return this.object(ref, isJsonObject(lhs) ? lhs : {}, isJsonObject(rhs) ? rhs : {});
  }

  private leaf(lhs: JsonValue | undefined, rhs: JsonValue | undefined): JsonValue | undefined {
    return cloneJson(rhs !== undefined ? rhs : lhs);
  }

  private object(ref: ObjectRef, lhs: JsonObject, rhs: JsonObject): JsonValue | undefined {
    const out: JsonObject = {};
    for (const key of new Set([...Object.keys(lhs), ...Object.keys(rhs)])) {
      const childRef = this.types.child(ref, key);
      const l = key in lhs ? lhs[key] : undefined;
      const r = key in rhs ? rhs[key] : undefined;
      const merged = childRef ? this.merge(childRef, l, r) : this.leaf(l, r);
      if (merged !== undefined) out[key] = merged;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }

  private item(ref: ListRef, lhs: JsonValue | undefined, rhs: JsonValue | undefined): JsonValue | undefined {
    return this.merge(ref.element, lhs, rhs);
  }

  private list(ref: ListRef, lhs: JsonValue[], rhs: JsonValue[]): JsonValue | undefined {
    const right = indexListOrThrow(ref, rhs);
    const left = indexListOrThrow(ref, lhs);
    const rNames = namesInOrder(ref, rhs);
    const lNames = namesInOrder(ref, lhs);
    // A duplicated live element is not merged with the configuration's: it counts as null.
    const lValue = (id: string) => {
      const n = left.get(id);
      return n && n.items.length === 1 ? n.items[0] : n ? null : undefined;
    };
    const rValue = (id: string) => right.get(id)?.items[0];
    const shared = rNames.filter((id) => left.has(id));
    let nextShared: string | undefined = shared.shift();
    const mergedRight = new Set<string>();
    const out: JsonValue[] = [];
    const push = (v: JsonValue | undefined) => {
      if (v !== undefined) out.push(v);
    };
    let li = 0;
    let ri = 0;
    while (li < lNames.length || ri < rNames.length) {
      if (li < lNames.length && ri < rNames.length) {
        const id = lNames[li];
        if (id === rNames[ri]) {
          mergedRight.add(id);
          push(this.item(ref, lValue(id), rValue(id)));
          li++;
          ri++;
          nextShared = shared.shift();
          continue;
        }
        if (right.has(id) && nextShared !== undefined && nextShared !== id) {
          li++; // a shared element, but not the one due in this round
          continue;
        }
      }
      if (li < lNames.length) {
        const id = lNames[li];
        if (!right.has(id)) {
          push(this.item(ref, lhs[li], undefined));
          li++;
          continue;
        }
        if (mergedRight.has(id)) li++; // already merged with the configuration's element
      }
      if (ri < rNames.length) {
        const id = rNames[ri];
        mergedRight.add(id);
        push(this.item(ref, lValue(id), rValue(id)));
        ri++;
        if (nextShared === id) nextShared = shared.shift();
      }
    }
    return out.length > 0 ? out : undefined;
  }
}

/** The live object with the configuration merged in (undefined when nothing remains). */
export function mergeValues(types: TypeResolver, ref: TypeRef, lhs: JsonValue | undefined, rhs: JsonValue | undefined): JsonValue | undefined {
  return new Merger(types).merge(ref, lhs, rhs);
}
