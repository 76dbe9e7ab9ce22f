#!/usr/bin/env node
// Writes the typed resource API services, one `<Kind>Service` per kind with the standard
// methods, into proto/k8ts/<group>/v1/services.proto. The files are generated from the
// table below so that every kind's API has exactly the same shape, and they are committed
// (proto/ is what clients in other languages are generated from). `npm run gen` rewrites
// them; `make lint` fails when the committed copy is stale.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

// kind, plural, namespaced, has status subresource, extra subresources
const PACKAGES = {
  core: {
    imports: [],
    kinds: [
      ['Namespace', 'Namespaces', false, true],
      ['Node', 'Nodes', false, true],
      ['Pod', 'Pods', true, true, ['bind', 'logs']],
      ['Service', 'Services', true, true],
      ['Endpoints', 'Endpoints', true, false],
      ['ServiceAccount', 'ServiceAccounts', true, false, ['token']],
      ['Secret', 'Secrets', true, false],
      ['ConfigMap', 'ConfigMaps', true, false],
      ['Event', 'Events', true, false],
    ],
  },
  apps: {
    imports: [],
    kinds: [
      ['ReplicaSet', 'ReplicaSets', true, true, ['scale']],
      ['Deployment', 'Deployments', true, true, ['scale']],
    ],
  },
  batch: { imports: [], kinds: [['Job', 'Jobs', true, true]] },
  coordination: { imports: [], kinds: [['Lease', 'Leases', true, false]] },
  rbac: {
    imports: [],
    kinds: [
      ['Role', 'Roles', true, false],
      ['ClusterRole', 'ClusterRoles', false, false],
      ['RoleBinding', 'RoleBindings', true, false],
      ['ClusterRoleBinding', 'ClusterRoleBindings', false, false],
    ],
  },
};

const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const article = (s) => (/^[AEIOU]/.test(s) ? 'an' : 'a');

function kindService(pkg, [kind, plural, namespaced, hasStatus, extra = []]) {
  const f = snake(kind);
  const a = article(kind);
  const L = [];
  const nsField = (n) =>
    namespaced
      ? [`  // The namespace of the ${kind}. Required.`, `  string namespace = ${n};`]
      : [];
  const nsListField = (n) =>
    namespaced ? [`  // Only ${plural} in this namespace; empty for every namespace.`, `  string namespace = ${n};`] : [];
  let n;

  L.push(`// ${kind}Service serves the ${kind} resource${namespaced ? ' (namespaced)' : ' (cluster-scoped)'}. Every call needs`);
  L.push('// a bearer token ("authorization: Bearer <token>" metadata) and the RBAC right for its verb.');
  L.push(`service ${kind}Service {`);
  L.push(`  // Reads one ${kind} by name (verb get). NOT_FOUND when it does not exist.`);
  L.push(`  rpc Get${kind}(Get${kind}Request) returns (Get${kind}Response);`);
  L.push(`  // Lists ${plural}, filtered by label and field selectors, in pages (verb list).`);
  L.push(`  rpc List${plural}(List${plural}Request) returns (List${plural}Response);`);
  L.push(`  // Streams changes to ${plural} after a resource version (verb watch).`);
  L.push(`  rpc Watch${plural}(Watch${plural}Request) returns (stream Watch${plural}Response);`);
  L.push(`  // Creates ${a} ${kind} (verb create). ALREADY_EXISTS when the name is taken.`);
  L.push(`  rpc Create${kind}(Create${kind}Request) returns (Create${kind}Response);`);
  L.push(`  // Replaces ${a} ${kind}'s metadata and spec (verb update); status is ignored.`);
  L.push(`  rpc Update${kind}(Update${kind}Request) returns (Update${kind}Response);`);
  if (hasStatus) {
    L.push(`  // Replaces ${a} ${kind}'s status (verb update on the status subresource); spec is ignored.`);
    L.push(`  rpc Update${kind}Status(Update${kind}StatusRequest) returns (Update${kind}StatusResponse);`);
  }
  L.push(`  // Deletes ${a} ${kind} (verb delete), gracefully when it has finalizers or a grace period.`);
  L.push(`  rpc Delete${kind}(Delete${kind}Request) returns (Delete${kind}Response);`);
  if (extra.includes('bind')) {
    L.push('  // Assigns a pending Pod to a node (verb create on the binding subresource). Sets');
    L.push('  // spec.nodeName once: binding a pod that already has a node fails with ABORTED.');
    L.push(`  rpc Bind${kind}(Bind${kind}Request) returns (Bind${kind}Response);`);
  }
  if (extra.includes('logs')) {
    L.push("  // Streams a container's log from the kubelet of the pod's node (verb get on the log");
    L.push('  // subresource).');
    L.push(`  rpc Get${kind}Logs(Get${kind}LogsRequest) returns (stream Get${kind}LogsResponse);`);
  }
  if (extra.includes('scale')) {
    L.push(`  // Reads the scale subresource of ${a} ${kind} (verb get on scale).`);
    L.push(`  rpc Get${kind}Scale(Get${kind}ScaleRequest) returns (Get${kind}ScaleResponse);`);
    L.push(`  // Sets spec.replicas through the scale subresource (verb update on scale).`);
    L.push(`  rpc Update${kind}Scale(Update${kind}ScaleRequest) returns (Update${kind}ScaleResponse);`);
  }
  if (extra.includes('token')) {
    L.push('  // Issues a token that authenticates as this service account, signed by the apiserver\'s');
    L.push('  // key (verb create on the token subresource), optionally bound to a Secret or Pod whose');
    L.push('  // deletion revokes it. The signing key never leaves the apiserver.');
    L.push(`  rpc Create${kind}Token(Create${kind}TokenRequest) returns (Create${kind}TokenResponse);`);
  }
  L.push('}');
  L.push('');

  // Get
  L.push(`// Get${kind}Request names the ${kind} to read.`);
  L.push(`message Get${kind}Request {`);
  L.push(...nsField(1));
  n = namespaced ? 2 : 1;
  L.push(`  // The ${kind}'s name. Required.`, `  string name = ${n++};`);
  L.push('  // Empty (the default): the latest state, read through from the store. "0": any cached');
  L.push('  // state is acceptable.');
  L.push(`  string resource_version = ${n++};`);
  L.push('}', '');
  L.push(`// Get${kind}Response holds the ${kind} read.`);
  L.push(`message Get${kind}Response {`, `  // The ${kind}.`, `  ${kind} ${f} = 1;`, '}', '');

  // List
  L.push(`// List${plural}Request selects the ${plural} to list and the page to return.`);
  L.push(`message List${plural}Request {`);
  L.push(...nsListField(1));
  n = namespaced ? 2 : 1;
  L.push(
    '  // A label selector in Kubernetes\' string form: "app=web,tier!=db,env in (a,b),!legacy,gpu".',
    `  string label_selector = ${n++};`,
    '  // A field selector: "metadata.name=x,spec.nodeName=node-1,status.phase!=Running"; the',
    '  // fields supported depend on the kind (metadata.name and metadata.namespace always).',
    `  string field_selector = ${n++};`,
    '  // The largest number of items to return (0: no limit). When more remain, the response',
    '  // carries a continue token.',
    `  int32 limit = ${n++};`,
    '  // The continue token of the previous page. Every page of one list is read at the same',
    '  // resource version; OUT_OF_RANGE when that version has been compacted.',
    `  string continue = ${n++};`,
    '  // Empty: the latest state. "0": any cached state is acceptable. A version: the state at',
    '  // exactly that version (OUT_OF_RANGE when compacted).',
    `  string resource_version = ${n++};`,
  );
  L.push('}', '');
  L.push(`// List${plural}Response is one page of ${plural}.`);
  L.push(`message List${plural}Response {`);
  L.push('  // resource_version: the version the list was read at (start a watch from it);');
  L.push('  // continue: the token for the next page, empty on the last page.');
  L.push('  k8ts.meta.v1.ListMeta metadata = 1;');
  L.push(`  // The ${plural} of this page, ordered by namespace and name.`);
  L.push(`  repeated ${kind} items = 2;`);
  L.push('}', '');

  // Watch
  L.push(`// Watch${plural}Request selects the ${plural} to watch and where to start.`);
  L.push(`message Watch${plural}Request {`);
  L.push(...nsListField(1));
  n = namespaced ? 2 : 1;
  L.push(
    '  // A label selector, as in List. An object that stops matching is sent as DELETED.',
    `  string label_selector = ${n++};`,
    '  // A field selector, as in List.',
    `  string field_selector = ${n++};`,
    '  // Send every change after this version (typically a List\'s metadata.resource_version).',
    '  // Empty or "0": first an ADDED event for every current object, then the changes.',
    '  // OUT_OF_RANGE when the version has been compacted: list again and watch from there.',
    `  string resource_version = ${n++};`,
    '  // Ask for BOOKMARK events: the server then periodically sends the version up to which it',
    '  // has delivered everything, so a client can resume from a recent version.',
    `  bool allow_watch_bookmarks = ${n++};`,
  );
  L.push('}', '');
  L.push(`// Watch${plural}Response is one change to ${a} ${kind}.`);
  L.push(`message Watch${plural}Response {`);
  L.push('  // What happened: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.');
  L.push('  k8ts.meta.v1.WatchEventType type = 1;');
  L.push(`  // The ${kind} after the change (for DELETED, its last state). For BOOKMARK, only`);
  L.push('  // metadata.resource_version is set.');
  L.push(`  ${kind} object = 2;`);
  L.push('  // For ERROR: what went wrong.');
  L.push('  k8ts.meta.v1.Status status = 3;');
  L.push('}', '');

  // Create
  L.push(`// Create${kind}Request holds the ${kind} to create.`);
  L.push(`message Create${kind}Request {`);
  L.push(`  // The new ${kind}. metadata.name (or metadata.generate_name) is required${namespaced ? '; metadata.namespace\n  // defaults to "default"' : ''}.`);
  L.push(`  ${kind} ${f} = 1;`);
  L.push('  // Validate, default and admit the object without storing it.');
  L.push('  bool dry_run = 2;');
  L.push('}', '');
  L.push(`// Create${kind}Response holds the ${kind} as stored, with uid, resource_version and defaults.`);
  L.push(`message Create${kind}Response {`, `  // The stored ${kind}.`, `  ${kind} ${f} = 1;`, '}', '');

  // Update
  L.push(`// Update${kind}Request holds the new state of ${a} ${kind}.`);
  L.push(`message Update${kind}Request {`);
  L.push(`  // The ${kind}. When metadata.resource_version is set and stale, the update fails with`);
  L.push('  // ABORTED (a conflict): read again and retry.');
  L.push(`  ${kind} ${f} = 1;`);
  L.push('  // Validate, default and admit the object without storing it.');
  L.push('  bool dry_run = 2;');
  L.push('}', '');
  L.push(`// Update${kind}Response holds the ${kind} as stored.`);
  L.push(`message Update${kind}Response {`, `  // The stored ${kind}.`, `  ${kind} ${f} = 1;`, '}', '');

  if (hasStatus) {
    L.push(`// Update${kind}StatusRequest holds the new status of ${a} ${kind}.`);
    L.push(`message Update${kind}StatusRequest {`);
    L.push(`  // The ${kind}: its metadata names it (and its resource_version guards the update); only`);
    L.push('  // its status is stored.');
    L.push(`  ${kind} ${f} = 1;`);
    L.push('}', '');
    L.push(`// Update${kind}StatusResponse holds the ${kind} as stored.`);
    L.push(`message Update${kind}StatusResponse {`, `  // The stored ${kind}.`, `  ${kind} ${f} = 1;`, '}', '');
  }

  // Delete
  L.push(`// Delete${kind}Request names the ${kind} to delete and how.`);
  L.push(`message Delete${kind}Request {`);
  L.push(...nsField(1));
  n = namespaced ? 2 : 1;
  L.push(`  // The ${kind}'s name. Required.`, `  string name = ${n++};`);
  L.push('  // Seconds before the object is removed (pods: the time its containers get to stop).');
  L.push("  // Unset: the object's default (pods: spec.terminationGracePeriodSeconds). 0: at once.");
  L.push(`  optional int64 grace_period_seconds = ${n++};`);
  L.push('  // What happens to dependents (objects whose ownerReferences name this one):');
  L.push('  // "Background" (default: delete the object now, dependents after), "Foreground" (delete');
  L.push('  // dependents first) or "Orphan" (leave dependents, removing their owner reference).');
  L.push(`  string propagation_policy = ${n++};`);
  L.push('  // Delete only if the object still has this uid and/or resource version (ABORTED otherwise).');
  L.push(`  k8ts.meta.v1.Preconditions preconditions = ${n++};`);
  L.push('  // Validate and admit the deletion without performing it.');
  L.push(`  bool dry_run = ${n++};`);
  L.push('}', '');
  L.push(`// Delete${kind}Response holds the ${kind}: gone, or marked for deletion (deletion_timestamp set)`);
  L.push('// while finalizers or a grace period keep it.');
  L.push(`message Delete${kind}Response {`, `  // The ${kind}'s last state.`, `  ${kind} ${f} = 1;`, '}', '');

  if (extra.includes('bind')) {
    L.push(`// Bind${kind}Request binds a pod to a node.`);
    L.push(`message Bind${kind}Request {`);
    L.push('  // metadata names the pod (namespace, name, optionally uid); target names the node.');
    L.push('  Binding binding = 1;');
    L.push('}', '');
    L.push(`// Bind${kind}Response is empty: the binding was stored.`);
    L.push(`message Bind${kind}Response {}`, '');
    L.push(`// Get${kind}LogsRequest selects a container's log.`);
    L.push(`message Get${kind}LogsRequest {`);
    L.push('  // The pod\'s namespace. Required.', '  string namespace = 1;');
    L.push("  // The pod's name. Required.", '  string name = 2;');
    L.push('  // The container; may be empty when the pod has one container.', '  string container = 3;');
    L.push('  // Keep streaming as the container writes.', '  bool follow = 4;');
    L.push('  // Only the last this-many lines (unset: all).', '  optional int64 tail_lines = 5;');
    L.push("  // The log of the container's previous (terminated) instance.", '  bool previous = 6;');
    L.push('  // Prefix each line with its RFC 3339 time.', '  bool timestamps = 7;');
    L.push('  // Only lines from the last this-many seconds (unset: all).', '  optional int64 since_seconds = 8;');
    L.push('}', '');
    L.push(`// Get${kind}LogsResponse is a chunk of log output, whole lines.`);
    L.push(`message Get${kind}LogsResponse {`, '  // Log bytes, one or more complete lines.', '  bytes data = 1;', '}', '');
  }
  if (extra.includes('token')) {
    L.push(`// Create${kind}TokenRequest names the service account and the token wanted.`);
    L.push(`message Create${kind}TokenRequest {`);
    L.push('  // The service account\'s namespace. Required.', '  string namespace = 1;');
    L.push('  // The service account\'s name. Required.', '  string name = 2;');
    L.push('  // The audiences the token is for; empty: the apiserver\'s own.', '  repeated string audiences = 3;');
    L.push('  // Lifetime in seconds; unset: a token that does not expire (it still dies with its', '  // account and its bound object).', '  optional int64 expiration_seconds = 4;');
    L.push('  // An object the token is bound to: kind "Secret" or "Pod", its name and uid. Deleting', '  // that object revokes the token.', '  ObjectReference bound_object_ref = 5;');
    L.push('}', '');
    L.push(`// Create${kind}TokenResponse holds the issued token.`);
    L.push(`message Create${kind}TokenResponse {`);
    L.push('  // The bearer token (a JWT).', '  string token = 1;');
    L.push('  // When it expires; unset for a token without expiry.', '  google.protobuf.Timestamp expiration_timestamp = 2;');
    L.push('}', '');
  }
  if (extra.includes('scale')) {
    L.push(`// Get${kind}ScaleRequest names the ${kind} whose scale to read.`);
    L.push(`message Get${kind}ScaleRequest {`);
    L.push(`  // The namespace of the ${kind}. Required.`, '  string namespace = 1;');
    L.push(`  // The ${kind}'s name. Required.`, '  string name = 2;');
    L.push('}', '');
    L.push(`// Get${kind}ScaleResponse holds the scale.`);
    L.push(`message Get${kind}ScaleResponse {`, '  // The scale subresource.', '  Scale scale = 1;', '}', '');
    L.push(`// Update${kind}ScaleRequest sets the replica count of ${a} ${kind}.`);
    L.push(`message Update${kind}ScaleRequest {`);
    L.push('  // metadata names the object (namespace, name; resource_version guards the update);');
    L.push('  // spec.replicas is the new count.');
    L.push('  Scale scale = 1;');
    L.push('}', '');
    L.push(`// Update${kind}ScaleResponse holds the scale after the update.`);
    L.push(`message Update${kind}ScaleResponse {`, '  // The scale subresource.', '  Scale scale = 1;', '}', '');
  }
  return L;
}

let written = 0;
for (const [pkg, spec] of Object.entries(PACKAGES)) {
  const L = [
    '// Code generated by scripts/gen-resource-protos.js. DO NOT EDIT.',
    '',
    'syntax = "proto3";',
    '',
    `package k8ts.${pkg}.v1;`,
    '',
  ];
  const imports = new Set(['k8ts/meta/v1/meta.proto', `k8ts/${pkg}/v1/${pkg}.proto`]);
  if (spec.kinds.some((k) => (k[4] || []).includes('token'))) imports.add('google/protobuf/timestamp.proto');
  if (pkg !== 'core' && spec.kinds.some((k) => (k[4] || []).includes('bind'))) imports.add('k8ts/core/v1/core.proto');
  for (const i of [...imports].sort()) L.push(`import "${i}";`);
  L.push('');
  for (const k of spec.kinds) L.push(...kindService(pkg, k));
  while (L[L.length - 1] === '') L.pop();
  const file = path.join(root, 'proto', 'k8ts', pkg, 'v1', 'services.proto');
  const text = L.join('\n') + '\n';
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
    fs.writeFileSync(file, text);
    written++;
  }
}
console.log(`gen-resource-protos: ${written} file(s) updated`);
