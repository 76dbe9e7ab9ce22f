// What exists from the start: the system namespaces (default, kube-system, kube-public,
// kube-node-lease) and the default RBAC policy of ./auth/bootstrap.ts. Every replica does
// this at start; creating what already exists is a no-op, so replicas starting together
// agree. Default RBAC objects marked rbac.authorization.kubernetes.io/autoupdate=true are
// brought back to their default rules and subjects when they drifted (as Kubernetes does).
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { kindFor, type KindInfo } from '@k8ts/api';
import { AUTOUPDATE_ANNOTATION, bootstrapPolicy } from './auth/bootstrap';
import { ApiError } from './errors';
import type { Registry } from './registry/registry';
import { SYSTEM_NAMESPACES } from './strategies/namespace';
import type { ApiObject } from './strategies/types';
import { semanticEqual } from './util';

const kind = (apiVersion: string, k: string): KindInfo => kindFor(apiVersion, k)!;

async function ensure(registry: Registry, k: KindInfo, obj: ApiObject, logger: Logger, fields: string[] = []): Promise<void> {
  try {
    await registry.create(k, obj);
    logger.debug({ resource: k.resource, name: obj.metadata?.name }, 'bootstrap: created');
    return;
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== grpc.status.ALREADY_EXISTS) throw err;
  }
  if (fields.length === 0) return;
  const ns = k.namespaced ? (obj.metadata?.namespace ?? '') : '';
  const name = obj.metadata?.name ?? '';
  try {
    await registry.guaranteedUpdate(k, ns, name, (cur) => {
      if (cur.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] !== 'true') return cur;
      for (const f of fields) if (!semanticEqual(cur[f], obj[f])) cur[f] = structuredClone(obj[f]);
      return cur;
    });
  } catch (err) {
    logger.warn({ err, resource: k.resource, name }, 'bootstrap: could not reconcile a default object');
  }
}

export async function bootstrap(registry: Registry, logger: Logger): Promise<void> {
  const namespaces = kind('v1', 'Namespace');
  for (const name of SYSTEM_NAMESPACES) await ensure(registry, namespaces, { metadata: { name } }, logger);
  const policy = bootstrapPolicy();
  const rbac = 'rbac.authorization.k8s.io/v1';
  for (const o of policy.clusterRoles) await ensure(registry, kind(rbac, 'ClusterRole'), o, logger, ['rules', 'aggregationRule']);
  for (const o of policy.clusterRoleBindings) await ensure(registry, kind(rbac, 'ClusterRoleBinding'), o, logger, ['subjects']);
  for (const o of policy.roles) await ensure(registry, kind(rbac, 'Role'), o, logger, ['rules']);
  for (const o of policy.roleBindings) await ensure(registry, kind(rbac, 'RoleBinding'), o, logger, ['subjects']);
  logger.info(
    {
      namespaces: SYSTEM_NAMESPACES.length,
      clusterRoles: policy.clusterRoles.length,
      clusterRoleBindings: policy.clusterRoleBindings.length,
      roles: policy.roles.length,
      roleBindings: policy.roleBindings.length,
    },
    'bootstrap objects present',
  );
}
