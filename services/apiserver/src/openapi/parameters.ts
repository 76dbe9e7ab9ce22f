// The query parameters of Kubernetes' resource operations, as kube-apiserver 1.32 lists
// them in its OpenAPI documents (the names and types are the API; the descriptions are
// ours). kubectl reads these lists: before it sends ?fieldValidation= it checks that the
// PATCH operation of the kind lists `fieldValidation` (otherwise it validates on the
// client, from the Swagger 2.0 document).

export interface QueryParameter {
  name: string;
  type: 'string' | 'integer' | 'boolean';
  description: string;
}

const p = (name: string, type: QueryParameter['type'], description: string): QueryParameter => ({ name, type, description });

export const PRETTY = p('pretty', 'string', "'true' asks for indented JSON output.");

const ALLOW_WATCH_BOOKMARKS = p(
  'allowWatchBookmarks',
  'boolean',
  'On a watch, asks the server to send BOOKMARK events: the resource version up to which everything was sent, so a client can resume from a recent one. Ignored by a plain list.',
);
const CONTINUE = p(
  'continue',
  'string',
  "The token of the previous page's metadata.continue: the list resumes after it, read at the same resource version as the first page. A token whose version has been compacted fails with 410 Gone.",
);
const DRY_RUN = p('dryRun', 'string', "'All' runs every stage of the request (validation, defaulting, admission) without persisting anything.");
const FIELD_MANAGER = p(
  'fieldManager',
  'string',
  'The name of the actor making the change, recorded in metadata.managedFields (at most 128 printable characters). Required for server-side apply (application/apply-patch+yaml).',
);
const FIELD_SELECTOR = p('fieldSelector', 'string', 'Only objects whose fields match, for example metadata.name=web or spec.nodeName=node-1. Defaults to everything.');
const FIELD_VALIDATION = p(
  'fieldValidation',
  'string',
  "What to do with unknown or duplicate fields in the request body: 'Ignore' (drop them silently), 'Warn' (drop them and answer with a Warning header for each; the default) or 'Strict' (fail the request with 400 Bad Request naming every such field).",
);
const FORCE = p('force', 'boolean', 'For server-side apply only: take ownership of fields other managers own instead of failing with a conflict.');
const GRACE_PERIOD_SECONDS = p(
  'gracePeriodSeconds',
  'integer',
  "Seconds before the object is removed; 0 removes it at once. Unset: the kind's default (for pods, spec.terminationGracePeriodSeconds).",
);
const LABEL_SELECTOR = p('labelSelector', 'string', 'Only objects whose labels match, for example app=web,tier!=db. Defaults to everything.');
const LIMIT = p(
  'limit',
  'integer',
  'The largest number of items to return. When more remain, metadata.continue carries a token for the next page; every page of one list is read at the same resource version.',
);
const ORPHAN_DEPENDENTS = p(
  'orphanDependents',
  'boolean',
  "Deprecated: use propagationPolicy. true orphans the dependents (propagationPolicy 'Orphan'); false deletes them.",
);
const PROPAGATION_POLICY = p(
  'propagationPolicy',
  'string',
  "What happens to the object's dependents: 'Background' (delete the object now, the dependents after), 'Foreground' (delete the dependents first) or 'Orphan' (keep them, without the owner reference).",
);
const RESOURCE_VERSION = p(
  'resourceVersion',
  'string',
  'Which state to read: unset for the latest, "0" for any cached state, or a version (with resourceVersionMatch) to read at or after it. For a watch: send every change after this version.',
);
const RESOURCE_VERSION_MATCH = p(
  'resourceVersionMatch',
  'string',
  "How a list applies resourceVersion: 'NotOlderThan' (at least that recent) or 'Exact' (exactly that version).",
);
const SEND_INITIAL_EVENTS = p(
  'sendInitialEvents',
  'boolean',
  'With watch=true: start the stream with an ADDED event for every current object, then a BOOKMARK marking the end of the initial state.',
);
const TIMEOUT_SECONDS = p('timeoutSeconds', 'integer', 'The longest the list or watch call may take, whatever happens.');
const WATCH = p('watch', 'boolean', 'Instead of a list, stream every change to the selected objects as watch events, from resourceVersion on.');

function byName(params: QueryParameter[]): QueryParameter[] {
  return [...params].sort((a, b) => a.name.localeCompare(b.name));
}

/** GET of a collection: a list, or a watch with watch=true. */
export const LIST_PARAMETERS = byName([
  ALLOW_WATCH_BOOKMARKS,
  CONTINUE,
  FIELD_SELECTOR,
  LABEL_SELECTOR,
  LIMIT,
  RESOURCE_VERSION,
  RESOURCE_VERSION_MATCH,
  SEND_INITIAL_EVENTS,
  TIMEOUT_SECONDS,
  WATCH,
]);

/** POST (create) and PUT (replace). */
export const WRITE_PARAMETERS = byName([DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION]);

/** PATCH in any of the four patch types. */
export const PATCH_PARAMETERS = byName([DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE]);

/** DELETE of one object (a DeleteOptions body may say the same). */
export const DELETE_PARAMETERS = byName([DRY_RUN, GRACE_PERIOD_SECONDS, ORPHAN_DEPENDENTS, PROPAGATION_POLICY]);

/** DELETE of a collection: the objects a list would select, each deleted as by DELETE. */
export const DELETE_COLLECTION_PARAMETERS = byName([
  CONTINUE,
  DRY_RUN,
  FIELD_SELECTOR,
  GRACE_PERIOD_SECONDS,
  LABEL_SELECTOR,
  LIMIT,
  ORPHAN_DEPENDENTS,
  PROPAGATION_POLICY,
  RESOURCE_VERSION,
  RESOURCE_VERSION_MATCH,
  SEND_INITIAL_EVENTS,
  TIMEOUT_SECONDS,
]);
