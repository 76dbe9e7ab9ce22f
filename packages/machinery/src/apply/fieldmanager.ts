// The field manager's pipeline around the ownership rules (k8s.io/apimachinery's managedfields
// managers, innermost last), shared by apply and by every other write:
//   - skip non-applied: an object that has no managedFields at all is not tracked by updates;
//     its first apply records what it already had under the Update manager
//     "before-first-apply" (a create is always tracked);
//   - cap: at most ten Update managers (managed.ts);
//   - manager info: the manager's identifier from its name, operation, version, subresource;
//   - managed-fields updater: an update is computed as the anonymous writer
//     "current-operation" and then added to the manager's existing entry, whose time is set
//     only when it took fields; an apply stamps its entry only when the object changed;
//   - strip meta: apiVersion, kind, metadata itself and the server-set metadata fields (name,
//     namespace, uid, resourceVersion, generation, creationTimestamp, managedFields, ...) are
//     never owned.
import { FieldSet } from './fieldset';
import type { JsonObject } from './json';
import {
  type Managed,
  type ManagerInfo,
  capUpdateManagers,
  copyManaged,
  managerIdentifier,
} from './managed';
import { BEFORE_FIRST_APPLY_MANAGER, UNKNOWN_MANAGER } from './managers';
import { type Path, fieldPath } from './path';
import { type SchemaSource, type TypeRef, TypeResolver, rootType } from './types';
import { Updater } from './updater';
import { zeroObject } from './zero';

const CURRENT_OPERATION = 'current-operation';

/** Paths no manager owns (Kubernetes' stripMetaManager). */
const STRIPPED = FieldSet.of(
  fieldPath('apiVersion'),
  fieldPath('kind'),
  fieldPath('metadata'),
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => fieldPath('metadata', f)),
);

export interface PipelineOptions {
  /** The API version objects of the kind are served at ("apps/v1"). */
  readonly apiVersion: string;
  /** The subresource written ("status", "scale"); '' or absent for the object itself. */
  readonly subresource?: string;
  /** Dotted paths of fields this write never owns ("status" on the main resource). */
  readonly resetFields?: readonly string[];
  /** When the write happens (RFC 3339 in the entries it stamps). */
  readonly now: string;
  readonly schema?: SchemaSource;
}

/** Everything one write needs to compute ownership for one kind. */
export class Pipeline {
  readonly types: TypeResolver;
  readonly root: TypeRef;
  readonly updater: Updater;

  constructor(
    readonly typeName: string,
    readonly opts: PipelineOptions,
  ) {
    this.types = new TypeResolver(opts.schema);
    this.root = rootType(typeName);
    const ignored = opts.resetFields?.length ? FieldSet.of(...opts.resetFields.map((p): Path => fieldPath(...p.split('.')))) : undefined;
    this.updater = new Updater({ types: this.types, root: this.root, apiVersion: opts.apiVersion, ignored });
  }

  /** The object a create is compared against (Go's zero value of the kind). */
  zeroObject(): JsonObject {
    return zeroObject(this.types, this.typeName);
  }

  identifier(manager: string, operation: ManagerInfo['operation']): string {
    return managerIdentifier({ manager: manager || UNKNOWN_MANAGER, operation, apiVersion: this.opts.apiVersion, subresource: this.opts.subresource ?? '' });
  }

  private strip(m: Managed, id: string): void {
    const vs = m.sets.get(id);
    if (!vs) return;
    const set = vs.set.difference(STRIPPED);
    if (set.isEmpty()) m.sets.delete(id);
    else m.sets.set(id, { ...vs, set });
  }

  /** The managers after a write that is not an apply, whatever the object's history. */
  trackUpdate(live: JsonObject, next: JsonObject, managed: Managed, manager: string): Managed {
    const id = this.identifier(manager, 'Update');
    const out = copyManaged(managed);
    out.sets = this.updater.update(live, next, managed.sets, CURRENT_OPERATION);
    this.strip(out, CURRENT_OPERATION);
    const took = out.sets.get(CURRENT_OPERATION);
    if (took) {
      out.sets.delete(CURRENT_OPERATION);
      const before = out.sets.get(id);
      out.sets.set(id, { ...took, set: before ? took.set.union(before.set) : took.set });
      out.times.set(id, this.opts.now);
    }
    return capUpdateManagers(out);
  }

  /** An update, unless the object exists and has never been tracked (Kubernetes' skipNonApplied). */
  update(live: JsonObject, next: JsonObject, managed: Managed, manager: string, liveExists: boolean): Managed {
    if (managed.sets.size === 0 && liveExists) return managed;
    return this.trackUpdate(live, next, managed, manager);
  }

  /**
   * An apply: the new object (undefined when unchanged) and the managers. An untracked object
   * first records its fields under "before-first-apply". Throws ConflictsError unless forced.
   */
  apply(live: JsonObject, config: JsonObject, managed: Managed, manager: string, force: boolean): { object?: JsonObject; managed: Managed } {
    const start = managed.sets.size === 0 ? this.trackUpdate(this.zeroObject(), live, managed, BEFORE_FIRST_APPLY_MANAGER) : managed;
    const id = this.identifier(manager, 'Apply');
    const result = this.updater.apply(live, config, start.sets, id, force);
    const out: Managed = { sets: result.managers, times: new Map(start.times) };
    this.strip(out, id);
    if (result.object) out.times.set(id, this.opts.now);
    return { object: result.object, managed: out };
  }
}
