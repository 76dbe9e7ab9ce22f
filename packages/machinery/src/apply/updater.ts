// The ownership rules of server-side apply (structured-merge-diff's merge.Updater), over the
// sets of each field manager.
//
// Any write, from old to new: the fields it modified or added are taken from every other
// manager — an apply that is not forced fails instead, listing them as conflicts — and the
// fields it removed are dropped from every manager. Managers left with nothing disappear.
//   Update: the writer's set becomes what it had, minus what was removed, plus what it
//           modified or added.
//   Apply:  the configuration is merged into the live object; the applier's set becomes
//           exactly the fields its configuration sets; then fields the applier set last time
//           but no longer sets are removed from the object, unless another manager (or the new
//           configuration) still owns them or they were not the applier's to remove.
// Fields under the reset fields (status, for the main resource of kinds that have a status
// subresource) are never owned through this write.
// Sets recorded for another API version than the kind's (k8ts serves one version per kind)
// cannot be converted and are dropped, as Kubernetes drops sets of versions it no longer serves.
import { compareValues, type Comparison } from './compare';
import { FieldSet } from './fieldset';
import { type JsonObject, type JsonValue, jsonEqual } from './json';
import type { Path } from './path';
import { mergeValues } from './merge';
import { removeItems } from './remove';
import { ensureNamedFieldsAreMembers, reconcileWithSchema, toFieldSet } from './tofieldset';
import type { TypeRef, TypeResolver } from './types';

/** One manager's fields, the API version they were recorded against, and whether by apply. */
export interface VersionedSet {
  readonly set: FieldSet;
  readonly apiVersion: string;
  readonly applied: boolean;
}

/** Manager identifier -> its set. */
export type ManagerSets = Map<string, VersionedSet>;

/** A field another manager owns that a write would change. */
export interface SetConflict {
  /** The manager's identifier. */
  readonly manager: string;
  readonly path: Path;
}

/** A non-forced apply would change fields other managers own. */
export class ConflictsError extends Error {
  constructor(readonly conflicts: SetConflict[]) {
    super(`${conflicts.length} conflict(s)`);
    this.name = 'ConflictsError';
  }
}

export interface UpdaterConfig {
  readonly types: TypeResolver;
  /** The object's type. */
  readonly root: TypeRef;
  /** The API version of the write ("apps/v1"). */
  readonly apiVersion: string;
  /** Fields never owned through this write (reset fields). */
  readonly ignored?: FieldSet;
}

function conflictsOf(sets: Map<string, FieldSet>): SetConflict[] {
  const out: SetConflict[] = [];
  for (const manager of [...sets.keys()].sort()) for (const path of sets.get(manager)!.paths()) out.push({ manager, path });
  return out;
}

export class Updater {
  constructor(private readonly cfg: UpdaterConfig) {}

  private withoutIgnored(set: FieldSet): FieldSet {
    return this.cfg.ignored ? set.recursiveDifference(this.cfg.ignored) : set;
  }

  private compare(oldObj: JsonValue, newObj: JsonValue): Comparison {
    const c = compareValues(this.cfg.types, this.cfg.root, oldObj, newObj);
    return { added: this.withoutIgnored(c.added), modified: this.withoutIgnored(c.modified), removed: this.withoutIgnored(c.removed) };
  }

  /** The managers' sets fitted to the current schema; sets of other API versions dropped. */
  reconcile(managers: ManagerSets): ManagerSets {
    const out: ManagerSets = new Map();
    for (const [manager, vs] of managers) {
      if (vs.apiVersion !== this.cfg.apiVersion) continue;
      out.set(manager, { ...vs, set: reconcileWithSchema(this.cfg.types, vs.set, this.cfg.root) });
    }
    return out;
  }

  /** Moves ownership for the write old -> new made by `writer`; throws ConflictsError unless forced. */
  private track(oldObj: JsonValue, newObj: JsonValue, managers: ManagerSets, writer: string, force: boolean): { managers: ManagerSets; comparison: Comparison } {
    const comparison = this.compare(oldObj, newObj);
    const changed = comparison.modified.union(comparison.added);
    const conflicts = new Map<string, FieldSet>();
    for (const [manager, vs] of managers) {
      if (manager === writer) continue;
      const taken = vs.set.intersection(changed);
      if (!taken.isEmpty()) conflicts.set(manager, taken);
    }
    if (!force && conflicts.size > 0) throw new ConflictsError(conflictsOf(conflicts));
    const out: ManagerSets = new Map();
    for (const [manager, vs] of managers) {
      let set = vs.set;
      if (manager !== writer) set = set.difference(conflicts.get(manager) ?? new FieldSet()).difference(comparison.removed);
      if (!set.isEmpty()) out.set(manager, { ...vs, set });
    }
    return { managers: out, comparison };
  }

  /** The managers' sets after a write that is not an apply (create, update, patch). */
  update(live: JsonObject, next: JsonObject, managers: ManagerSets, writer: string): ManagerSets {
    const tracked = this.track(live, next, this.reconcile(managers), writer, true);
    const { added, modified, removed } = tracked.comparison;
    const before = tracked.managers.get(writer)?.set ?? new FieldSet();
    const set = this.withoutIgnored(before.difference(removed).union(modified).union(added));
    const out = new Map(tracked.managers);
    if (set.isEmpty()) out.delete(writer);
    else out.set(writer, { set, apiVersion: this.cfg.apiVersion, applied: false });
    return out;
  }

  /**
   * An apply of `config` by `applier`: the new object (undefined when it equals the live one)
   * and the managers' sets. Throws ConflictsError unless forced.
   */
  apply(live: JsonObject, config: JsonObject, managers: ManagerSets, applier: string, force: boolean): { object?: JsonObject; managers: ManagerSets } {
    const current = this.reconcile(managers);
    const merged = (mergeValues(this.cfg.types, this.cfg.root, live, config) ?? {}) as JsonObject;
    const lastSet = current.get(applier);
    const applied = this.withoutIgnored(toFieldSet(this.cfg.types, this.cfg.root, config));
    current.set(applier, { set: applied, apiVersion: this.cfg.apiVersion, applied: true });
    const pruned = this.prune(merged, current, lastSet);
    const tracked = this.track(live, pruned, current, applier, force);
    return { object: jsonEqual(live, pruned) ? undefined : pruned, managers: tracked.managers };
  }

  private fieldsOf(v: JsonValue): FieldSet {
    return ensureNamedFieldsAreMembers(this.cfg.types, toFieldSet(this.cfg.types, this.cfg.root, v), this.cfg.root);
  }

  private ensured(set: FieldSet): FieldSet {
    return ensureNamedFieldsAreMembers(this.cfg.types, set, this.cfg.root);
  }

  private removeFrom(v: JsonObject, set: FieldSet): JsonObject {
    return (removeItems(this.cfg.types, this.cfg.root, v, set) ?? {}) as JsonObject;
  }

  /**
   * Removes what the applier applied last time and no longer applies, except what another
   * manager (or the new configuration) owns, and except what the applier did not own.
   */
  private prune(merged: JsonObject, managers: ManagerSets, lastSet: VersionedSet | undefined): JsonObject {
    if (!lastSet || lastSet.set.isEmpty()) return merged;
    const last = this.ensured(lastSet.set);
    let pruned = this.removeFrom(merged, last);
    // Add back what any manager still owns.
    let owned = new FieldSet();
    for (const vs of managers.values()) owned = owned.union(vs.set);
    const mergedFields = this.fieldsOf(merged);
    pruned = this.removeFrom(merged, mergedFields.difference(this.fieldsOf(pruned).union(this.ensured(owned))));
    // Add back what was removed but was not the applier's.
    return this.removeFrom(merged, mergedFields.difference(this.fieldsOf(pruned)).intersection(last));
  }
}
