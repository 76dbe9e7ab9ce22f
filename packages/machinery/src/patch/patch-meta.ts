// What a strategic merge patch needs to know about a field, read from the API schema (the
// role of strategicpatch's LookupPatchMeta): where its value sits in the schema (a message,
// the values of a proto map, or nowhere known) and its patch strategy and merge key.
// A field the schema does not know (or one holding free-form JSON) has no strategy: its
// objects merge and its lists are replaced, as in a JSON merge patch.
import { fieldOf, messageSchema, type FieldSchema } from '../schema';
import { PatchError } from './errors';

/** Where a JSON value sits in the schema. */
export type SchemaNode = { kind: 'message'; typeName: string } | { kind: 'map'; values: SchemaNode } | { kind: 'unknown' };

/** The patch metadata of one field: Kubernetes' patchStrategy, split as extractRetainKeysPatchStrategy does. */
export interface PatchMeta {
  /** "merge", "replace", or "" (no strategy: lists are replaced, objects merged). */
  strategy: string;
  /** The strategy includes retainKeys. */
  retainKeys: boolean;
  /** patchMergeKey, "" when none. */
  mergeKey: string;
}

/** The result of looking a key up: the schema of its value (of each element, for a list) and its metadata. */
export interface FieldLookup {
  node: SchemaNode;
  meta: PatchMeta;
}

const UNKNOWN: SchemaNode = { kind: 'unknown' };
const NO_META: PatchMeta = { strategy: '', retainKeys: false, mergeKey: '' };

/** The schema node of a whole object of a message type; throws for a type the API does not have. */
export function messageNode(typeName: string): SchemaNode {
  return { kind: 'message', typeName: messageSchema(typeName).typeName };
}

/** A human name for a node, for error messages. */
export function nodeName(node: SchemaNode): string {
  if (node.kind === 'message') return node.typeName;
  return node.kind === 'map' ? 'map' : 'unknown';
}

function elementNode(f: FieldSchema): SchemaNode {
  return f.kind === 'message' && f.typeName ? { kind: 'message', typeName: f.typeName } : UNKNOWN;
}

/** Splits "merge,retainKeys" into the list strategy and the retainKeys flag. */
export function parsePatchStrategy(patchStrategy: string | undefined, field: string): Omit<PatchMeta, 'mergeKey'> {
  const parts = patchStrategy ? patchStrategy.split(',') : [];
  if (parts.length === 0) return { strategy: '', retainKeys: false };
  if (parts.length === 1) return parts[0] === 'retainKeys' ? { strategy: '', retainKeys: true } : { strategy: parts[0], retainKeys: false };
  if (parts.length === 2 && parts.includes('retainKeys')) return { strategy: parts[0] === 'retainKeys' ? parts[1] : parts[0], retainKeys: true };
  throw new PatchError(`unexpected patch strategy: [${parts.join(' ')}]`, 'Unknown', field);
}

/**
 * The schema of the value under `key` of an object at `node`, and the key's patch metadata.
 * For a list field the node is that of each element; for a proto map field, a map node.
 */
export function lookupField(node: SchemaNode, key: string, field: string): FieldLookup {
  if (node.kind === 'map') return { node: node.values, meta: NO_META };
  if (node.kind === 'unknown') return { node: UNKNOWN, meta: NO_META };
  const f = fieldOf(node.typeName, key);
  if (!f) return { node: UNKNOWN, meta: NO_META };
  const element = elementNode(f);
  const meta: PatchMeta = { ...parsePatchStrategy(f.patchStrategy, field), mergeKey: f.patchMergeKey ?? '' };
  return { node: f.map ? { kind: 'map', values: element } : element, meta };
}
