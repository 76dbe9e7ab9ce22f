// RoleBinding and ClusterRoleBinding columns, as Kubernetes' printRoleBinding computes them:
// NAME ROLE ("Kind/name" of the roleRef) AGE, and USERS GROUPS SERVICEACCOUNTS with -o wide
// (rbac.SubjectsStrings: service accounts as "namespace/name"; each list joined by ", ").
// Roles and ClusterRoles have no printer in Kubernetes: the default table convertor serves them.
import type { ColumnDefinition, PrinterColumns } from './columns';
import { AGE_COLUMN, NAME_COLUMN, column, nameOf, wide } from './columns';
import { timestampAge } from './duration';
import type { JsonObject } from './json';
import { field, objectsAt, stringAt } from './json';

/** The binding's subjects by kind: users, groups and service accounts. */
export function bindingSubjects(binding: JsonObject): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const out = { users: [] as string[], groups: [] as string[], serviceAccounts: [] as string[] };
  for (const s of objectsAt(binding, 'subjects')) {
    const name = stringAt(s, 'name');
    switch (stringAt(s, 'kind')) {
      case 'ServiceAccount':
        out.serviceAccounts.push(`${stringAt(s, 'namespace')}/${name}`);
        break;
      case 'User':
        out.users.push(name);
        break;
      case 'Group':
        out.groups.push(name);
        break;
    }
  }
  return out;
}

function bindingColumns(kindName: string): PrinterColumns {
  const columns: ColumnDefinition[] = [
    NAME_COLUMN,
    column('Role', 'string', 'The role the binding grants (roleRef), as Kind/name.'),
    AGE_COLUMN,
    wide('Users', 'string', `Users in the ${kindName}`),
    wide('Groups', 'string', `Groups in the ${kindName}`),
    wide('ServiceAccounts', 'string', `ServiceAccounts in the ${kindName}`),
  ];
  return {
    columns,
    cells(b, now) {
      const s = bindingSubjects(b);
      return [
        nameOf(b),
        `${stringAt(b, 'roleRef', 'kind')}/${stringAt(b, 'roleRef', 'name')}`,
        timestampAge(field(b, 'metadata', 'creationTimestamp'), now),
        s.users.join(', '),
        s.groups.join(', '),
        s.serviceAccounts.join(', '),
      ];
    },
  };
}

export const roleBindingColumns = bindingColumns('roleBinding');
export const clusterRoleBindingColumns = bindingColumns('clusterRoleBinding');
