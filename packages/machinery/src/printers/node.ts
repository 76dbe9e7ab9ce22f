// Node columns: NAME STATUS ROLES AGE VERSION, and INTERNAL-IP EXTERNAL-IP OS-IMAGE
// KERNEL-VERSION CONTAINER-RUNTIME with -o wide, as Kubernetes' printNode computes them.
// STATUS is Ready or NotReady from the Ready condition (Unknown without one), followed by
// SchedulingDisabled for a cordoned node. ROLES come from node-role.kubernetes.io/<role> labels
// (an empty role is ignored) and the kubernetes.io/role label's value, sorted and de-duplicated.
import type { ColumnDefinition, PrinterColumns } from './columns';
import { AGE_COLUMN, NAME_COLUMN, column, nameOf, wide } from './columns';
import { timestampAge } from './duration';
import type { JsonObject } from './json';
import { field, objectsAt, stringAt, stringMapAt } from './json';

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const ROLE_LABEL = 'kubernetes.io/role';

const NODE_COLUMNS: ColumnDefinition[] = [
  NAME_COLUMN,
  column('Status', 'string', 'The status of the node'),
  column('Roles', 'string', 'The roles of the node'),
  AGE_COLUMN,
  column('Version', 'string', "The kubelet's version (status.nodeInfo.kubeletVersion)."),
  wide('Internal-IP', 'string', "The node's first address of type InternalIP (status.addresses)."),
  wide('External-IP', 'string', "The node's first address of type ExternalIP (status.addresses)."),
  wide('OS-Image', 'string', "The node's operating system image, as the kubelet reports it (status.nodeInfo.osImage)."),
  wide('Kernel-Version', 'string', "The node's kernel version (status.nodeInfo.kernelVersion)."),
  wide('Container-Runtime', 'string', "The container runtime's name and version (status.nodeInfo.containerRuntimeVersion)."),
];

/** A node's STATUS: Ready / NotReady / Unknown, then SchedulingDisabled when unschedulable. */
export function nodeStatus(node: JsonObject): string {
  const ready = objectsAt(node, 'status', 'conditions').find((c) => stringAt(c, 'type') === 'Ready');
  const status = [ready === undefined ? 'Unknown' : stringAt(ready, 'status') === 'True' ? 'Ready' : 'NotReady'];
  if (field(node, 'spec', 'unschedulable') === true) status.push('SchedulingDisabled');
  return status.join(',');
}

/** A node's roles from its labels, sorted; "<none>" when it has none. */
export function nodeRoles(node: JsonObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(stringMapAt(node, 'metadata', 'labels'))) {
    if (key.startsWith(ROLE_LABEL_PREFIX)) {
      const role = key.slice(ROLE_LABEL_PREFIX.length);
      if (role !== '') roles.add(role);
    } else if (key === ROLE_LABEL && value !== '') {
      roles.add(value);
    }
  }
  return roles.size === 0 ? '<none>' : [...roles].sort().join(',');
}

/** The first address of a type, or "<none>". */
function address(node: JsonObject, type: string): string {
  const found = objectsAt(node, 'status', 'addresses').find((a) => stringAt(a, 'type') === type);
  return found ? stringAt(found, 'address') : '<none>';
}

export const nodeColumns: PrinterColumns = {
  columns: NODE_COLUMNS,
  cells(node, now) {
    const info = (key: string) => stringAt(node, 'status', 'nodeInfo', key) || '<unknown>';
    return [
      nameOf(node),
      nodeStatus(node),
      nodeRoles(node),
      timestampAge(field(node, 'metadata', 'creationTimestamp'), now),
      stringAt(node, 'status', 'nodeInfo', 'kubeletVersion'),
      address(node, 'InternalIP'),
      address(node, 'ExternalIP'),
      info('osImage'),
      info('kernelVersion'),
      info('containerRuntimeVersion'),
    ];
  },
};
