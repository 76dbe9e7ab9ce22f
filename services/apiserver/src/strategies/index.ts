// The strategy of every kind k8ts serves, keyed by resource name. Adding a kind is one new
// strategy file and one line here (the generic registry and server do the rest).
import { KINDS } from '@k8ts/api';
import { clusterRoleStrategy } from './clusterrole';
import { clusterRoleBindingStrategy } from './clusterrolebinding';
import { configMapStrategy } from './configmap';
import { deploymentStrategy } from './deployment';
import { endpointsStrategy } from './endpoints';
import { eventStrategy } from './event';
import { jobStrategy } from './job';
import { leaseStrategy } from './lease';
import { namespaceStrategy } from './namespace';
import { nodeStrategy } from './node';
import { podStrategy } from './pod';
import { replicaSetStrategy } from './replicaset';
import { roleStrategy } from './role';
import { roleBindingStrategy } from './rolebinding';
import { secretStrategy } from './secret';
import { serviceStrategy } from './service';
import { serviceAccountStrategy } from './serviceaccount';
import type { Strategy } from './types';

export const STRATEGIES: ReadonlyMap<string, Strategy> = new Map(
  (
    [
      namespaceStrategy,
      nodeStrategy,
      podStrategy,
      serviceStrategy,
      endpointsStrategy,
      serviceAccountStrategy,
      secretStrategy,
      configMapStrategy,
      eventStrategy,
      replicaSetStrategy,
      deploymentStrategy,
      jobStrategy,
      leaseStrategy,
      roleStrategy,
      clusterRoleStrategy,
      roleBindingStrategy,
      clusterRoleBindingStrategy,
    ] as Strategy[]
  ).map((s) => [s.kind.resource, s]),
);

// Every served kind must have a strategy: fail at load time rather than at the first request.
for (const k of KINDS) if (!STRATEGIES.has(k.resource)) throw new Error(`no strategy for ${k.resource}`);

export function strategyFor(resource: string): Strategy {
  const s = STRATEGIES.get(resource);
  if (!s) throw new Error(`no strategy for ${resource}`);
  return s;
}

export type { Strategy, Allocation, Allocators, ApiObject } from './types';
