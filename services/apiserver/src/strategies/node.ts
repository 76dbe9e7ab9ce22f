// Nodes: cluster-scoped, registered by the kubelet with their status (status may be set on
// create); pod CIDRs and provider ID cannot change once set; taints are validated and a
// NoExecute taint gets its timeAdded.
import { type corev1, kindFor } from '@k8ts/api';
import { nowRFC3339 } from '../util';
import { TAINT_EFFECTS } from './podspec';
import type { Strategy } from './types';
import { isCIDR, isDNS1123Subdomain, isIP, isQualifiedName, isValidLabelValue, validateEnum, validateResourceList } from './validation';

function defaultTaints(node: corev1.Node): void {
  for (const t of node.spec?.taints ?? []) if (t.effect === 'NoExecute' && !t.timeAdded) t.timeAdded = nowRFC3339();
}

export const nodeStrategy: Strategy<corev1.Node> = {
  kind: kindFor('v1', 'Node')!,
  hasStatus: true,
  nameCheck: isDNS1123Subdomain,

  defaults(node) {
    node.spec ??= { podCIDR: '', podCIDRs: [], providerID: '', unschedulable: false, taints: [] };
    const spec = node.spec;
    if (spec.podCIDR && (spec.podCIDRs ?? []).length === 0) spec.podCIDRs = [spec.podCIDR];
    if (!spec.podCIDR && (spec.podCIDRs ?? []).length > 0) spec.podCIDR = spec.podCIDRs![0];
    const status = node.status;
    if (status && Object.keys(status.allocatable ?? {}).length === 0 && Object.keys(status.capacity ?? {}).length > 0) {
      status.allocatable = structuredClone(status.capacity);
    }
    defaultTaints(node);
  },

  validate(node, errs) {
    const spec = node.spec;
    (spec?.podCIDRs ?? []).forEach((c, i) => {
      if (!isCIDR(c)) errs.invalid(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR');
    });
    if (spec?.podCIDR && (spec.podCIDRs ?? [])[0] !== spec.podCIDR) errs.invalid('spec.podCIDRs', spec.podCIDRs, 'the first entry must equal spec.podCIDR');
    const seen = new Set<string>();
    (spec?.taints ?? []).forEach((t, i) => {
      const p = `spec.taints[${i}]`;
      if (!t.key) errs.required(`${p}.key`);
      else errs.invalidEach(`${p}.key`, t.key, isQualifiedName(t.key));
      if (t.value) errs.invalidEach(`${p}.value`, t.value, isValidLabelValue(t.value));
      validateEnum(t.effect, TAINT_EFFECTS, `${p}.effect`, errs);
      const id = `${t.key}:${t.effect}`;
      if (seen.has(id)) errs.duplicate(p, `${t.key}:${t.effect}`);
      seen.add(id);
    });
    validateNodeStatus(node, errs);
  },

  validateUpdate(node, old, errs) {
    const o = old.spec;
    const n = node.spec;
    if ((o?.podCIDRs ?? []).length > 0 && JSON.stringify(o?.podCIDRs) !== JSON.stringify(n?.podCIDRs ?? [])) {
      errs.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid');
    }
    if (o?.providerID && o.providerID !== n?.providerID) {
      errs.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid');
    }
  },

  validateStatusUpdate(node, _old, errs) {
    validateNodeStatus(node, errs);
  },

  fields(node) {
    return { 'spec.unschedulable': String(node.spec?.unschedulable ?? false) };
  },
};

function validateNodeStatus(node: corev1.Node, errs: import('./validation').ErrorList): void {
  const s = node.status;
  if (!s) return;
  validateResourceList(s.capacity, 'status.capacity', errs);
  validateResourceList(s.allocatable, 'status.allocatable', errs);
  (s.addresses ?? []).forEach((a, i) => {
    const p = `status.addresses[${i}]`;
    validateEnum(a.type, ['Hostname', 'InternalIP', 'ExternalIP', 'InternalDNS', 'ExternalDNS'], `${p}.type`, errs);
    if (!a.address) errs.required(`${p}.address`);
    else if ((a.type === 'InternalIP' || a.type === 'ExternalIP') && !isIP(a.address)) errs.invalid(`${p}.address`, a.address, 'must be a valid IP address');
  });
  const port = s.daemonEndpoints?.kubeletEndpoint?.Port;
  if (port !== undefined && port !== 0 && (port < 1 || port > 65535)) {
    errs.invalid('status.daemonEndpoints.kubeletEndpoint.Port', port, 'must be between 1 and 65535, inclusive');
  }
  (s.conditions ?? []).forEach((c, i) => {
    if (!c.type) errs.required(`status.conditions[${i}].type`);
    validateEnum(c.status, ['True', 'False', 'Unknown'], `status.conditions[${i}].status`, errs);
  });
}
