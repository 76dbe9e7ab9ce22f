// Server-side apply (sigs.k8s.io/structured-merge-diff and k8s.io/apimachinery's field
// manager, rewritten): field sets and their FieldsV1 form, apply with conflicts and force,
// managedFields after every other write, and the field manager names kubectl uses.
import { FieldSet } from './fieldset';
import type { JsonObject, JsonValue } from './json';
import { toFieldSet } from './tofieldset';
import { type SchemaSource, TypeResolver, rootType } from './types';
import { SchemaMismatchError, validateValue } from './validate';

export { FieldSet, FieldsV1Error } from './fieldset';
export type { JsonObject, JsonValue } from './json';
export {
  type KeyField,
  type Path,
  type PathElement,
  PathElementSyntaxError,
  fieldElement,
  fieldPath,
  indexElement,
  keyElement,
  parsePathElement,
  pathToString,
  serializePathElement,
  valueElement,
} from './path';
export { API_SCHEMA, type SchemaSource } from './types';
export { SchemaMismatchError, type ValueProblem } from './validate';
export {
  type ApplyConflict,
  ApplyConflictError,
  ApplyConfigError,
  type ApplyOptions,
  ApplyRequestError,
  type ApplyResult,
  apply,
} from './apply';
export { type UpdateOptions, keepTimestampsOfNoop, updateManagedFields } from './update';
export { type ManagedFieldsEntry, ManagedFieldsError, MAX_UPDATE_MANAGERS, ANCIENT_CHANGES_MANAGER } from './managed';
export {
  BEFORE_FIRST_APPLY_MANAGER,
  FIELD_MANAGER_MAX_LENGTH,
  KUBECTL_MANAGERS,
  LAST_APPLIED_ANNOTATION,
  LAST_APPLIED_MANAGER,
  UNKNOWN_MANAGER,
  fieldManagerFor,
  validateFieldManager,
} from './managers';

/**
 * The fields an object of a type sets (what an applier of it would own). Throws
 * SchemaMismatchError, listing every problem with its path, when the object does not fit.
 */
export function fieldSetOf(typeName: string, obj: JsonValue, opts: { schema?: SchemaSource } = {}): FieldSet {
  const types = new TypeResolver(opts.schema);
  const root = rootType(typeName);
  const problems = validateValue(types, root, obj, { allowDuplicates: true });
  if (problems.length > 0) throw new SchemaMismatchError(typeName, problems);
  return toFieldSet(types, root, obj);
}

/** A FieldsV1 document as a set; throws FieldsV1Error naming the bad key. */
export function fieldSetFromFieldsV1(doc: unknown): FieldSet {
  return FieldSet.fromFieldsV1(doc);
}

/** The FieldsV1 document of a set. */
export function fieldSetToFieldsV1(set: FieldSet): JsonObject {
  return set.toFieldsV1();
}
