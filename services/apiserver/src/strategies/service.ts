// Services: type, ports and traffic-policy defaults; a cluster IP from the service range and
// node ports from the node port range, picked by the server or chosen by the user, held as
// allocation keys in the store (see ../allocator/ranges.ts); immutable cluster IPs.
import { type corev1, kindFor } from '@k8ts/api';
import * as grpc from '@grpc/grpc-js';
import { ApiError } from '../errors';
import { nodePortKey, serviceIPKey } from '@k8ts/machinery';
import { PROTOCOLS } from './podspec';
import type { Allocation, Allocators, Strategy } from './types';
import {
  type ErrorList,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isIP,
  isValidPortName,
  isValidPortNum,
  validateEnum,
  validateLabels,
} from './validation';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

const needsClusterIP = (s: corev1.Service) => s.spec?.type !== 'ExternalName';
const isHeadless = (s: corev1.Service) => s.spec?.clusterIP === 'None';
const needsNodePorts = (s: corev1.Service) =>
  s.spec?.type === 'NodePort' || (s.spec?.type === 'LoadBalancer' && s.spec.allocateLoadBalancerNodePorts !== false);

function rangeFull(what: string): ApiError {
  return new ApiError(grpc.status.RESOURCE_EXHAUSTED, 'InternalError', 500, `Internal error occurred: failed to allocate a ${what}: range is full`);
}

export const serviceStrategy: Strategy<corev1.Service> = {
  kind: kindFor('v1', 'Service')!,
  hasStatus: true,
  nameCheck: isDNS1035Label,

  defaults(svc) {
    svc.spec ??= {} as corev1.ServiceSpec;
    const spec = svc.spec;
    if (!spec.type) spec.type = 'ClusterIP';
    if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
    if (spec.sessionAffinity === 'ClientIP') {
      spec.sessionAffinityConfig ??= {};
      spec.sessionAffinityConfig.clientIP ??= {};
      spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
    }
    for (const p of spec.ports ?? []) {
      if (!p.protocol) p.protocol = 'TCP';
      if (!p.targetPort || (p.targetPort.intVal === undefined && p.targetPort.strVal === undefined) || p.targetPort.intVal === 0) {
        p.targetPort = { intVal: p.port };
      }
    }
    if (spec.type !== 'ExternalName') {
      if (spec.internalTrafficPolicy === undefined) spec.internalTrafficPolicy = 'Cluster';
      if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = 'SingleStack';
      if ((spec.ipFamilies ?? []).length === 0) spec.ipFamilies = ['IPv4'];
    }
    if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
    if (spec.clusterIP && (spec.clusterIPs ?? []).length === 0) spec.clusterIPs = [spec.clusterIP];
    if (!spec.clusterIP && (spec.clusterIPs ?? []).length > 0) spec.clusterIP = spec.clusterIPs![0];
  },

  prepareForCreate(svc) {
    svc.status = { conditions: [] };
  },

  allocate(svc, old, alloc: Allocators, errs: ErrorList) {
    const picked = new Set<string>();
    const spec = svc.spec!;
    // On update, values the client left out are kept, as Kubernetes does.
    if (old?.spec) {
      if (needsClusterIP(old) && needsClusterIP(svc) && !spec.clusterIP) {
        spec.clusterIP = old.spec.clusterIP;
        spec.clusterIPs = [...(old.spec.clusterIPs ?? [])];
      }
      if (needsNodePorts(old) && needsNodePorts(svc)) {
        for (const p of spec.ports ?? []) {
          if (p.nodePort) continue;
          const prev = (old.spec.ports ?? []).find((o) => o.port === p.port && o.protocol === p.protocol);
          if (prev?.nodePort) p.nodePort = prev.nodePort;
        }
      }
    }
    if (needsClusterIP(svc)) {
      if (!spec.clusterIP) {
        const ip = alloc.pickServiceIP();
        if (!ip) throw rangeFull('serviceIP');
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
        picked.add(serviceIPKey(ip));
      } else if (spec.clusterIP !== 'None' && isIP(spec.clusterIP) && spec.clusterIP !== old?.spec?.clusterIP) {
        if (!alloc.serviceIPRange.allocatable(spec.clusterIP)) {
          errs.invalid(
            'spec.clusterIPs',
            [spec.clusterIP],
            `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${alloc.serviceIPRange.cidr}`,
          );
        }
      }
    }
    if (needsNodePorts(svc)) {
      (spec.ports ?? []).forEach((p, i) => {
        if (!p.nodePort) {
          // One node port per port number: a TCP and a UDP port of the same number share it.
          const same = (spec.ports ?? []).find((o) => o !== p && o.port === p.port && o.nodePort);
          const port = same?.nodePort ?? alloc.pickNodePort();
          if (!port) throw rangeFull('nodePort');
          p.nodePort = port;
          if (!same) picked.add(nodePortKey(port));
        } else if (!alloc.nodePortRange.contains(p.nodePort)) {
          const held = (old?.spec?.ports ?? []).some((o) => o.nodePort === p.nodePort);
          if (!held) {
            errs.invalid(
              `spec.ports[${i}].nodePort`,
              p.nodePort,
              `provided port is not in the valid range. The range of valid ports is ${alloc.nodePortRange.min}-${alloc.nodePortRange.max}`,
            );
          }
        }
      });
    }
    return picked;
  },

  allocations(svc): Allocation[] {
    const out: Allocation[] = [];
    const spec = svc.spec;
    if (!spec) return out;
    if (needsClusterIP(svc) && spec.clusterIP && spec.clusterIP !== 'None' && isIP(spec.clusterIP)) {
      out.push({
        key: serviceIPKey(spec.clusterIP),
        field: 'spec.clusterIPs',
        value: [spec.clusterIP],
        takenMessage: `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`,
      });
    }
    if (needsNodePorts(svc)) {
      const seen = new Set<number>();
      (spec.ports ?? []).forEach((p, i) => {
        if (!p.nodePort || seen.has(p.nodePort)) return;
        seen.add(p.nodePort);
        out.push({ key: nodePortKey(p.nodePort), field: `spec.ports[${i}].nodePort`, value: p.nodePort, takenMessage: 'provided port is already allocated' });
      });
    }
    return out;
  },

  validate(svc, errs) {
    const spec = svc.spec;
    if (!spec) {
      errs.required('spec');
      return;
    }
    validateEnum(spec.type, SERVICE_TYPES, 'spec.type', errs);
    const ports = spec.ports ?? [];
    if (spec.type === 'ExternalName') {
      if (!spec.externalName) errs.required('spec.externalName');
      else errs.invalidEach('spec.externalName', spec.externalName, isDNS1123Subdomain(spec.externalName.replace(/\.$/, '')));
      if (spec.clusterIP) errs.forbidden('spec.clusterIP', 'may not be set for ExternalName services');
    } else if (!isHeadless(svc) && ports.length === 0) {
      errs.required('spec.ports');
    }
    if (spec.clusterIP && spec.clusterIP !== 'None' && !isIP(spec.clusterIP)) {
      errs.invalid('spec.clusterIPs[0]', spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
    }
    if (isHeadless(svc) && (spec.type === 'NodePort' || spec.type === 'LoadBalancer')) {
      errs.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${spec.type} services`);
    }
    const names = new Set<string>();
    const pairs = new Set<string>();
    ports.forEach((p, i) => {
      const pp = `spec.ports[${i}]`;
      if (ports.length > 1 && !p.name) errs.required(`${pp}.name`);
      if (p.name) {
        errs.invalidEach(`${pp}.name`, p.name, isDNS1123Label(p.name));
        if (names.has(p.name)) errs.duplicate(`${pp}.name`, p.name);
        names.add(p.name);
      }
      if (!p.port) errs.required(`${pp}.port`);
      else errs.invalidEach(`${pp}.port`, p.port, isValidPortNum(p.port));
      validateEnum(p.protocol, PROTOCOLS, `${pp}.protocol`, errs);
      const pair = `${p.port}/${p.protocol}`;
      if (pairs.has(pair)) errs.duplicate(pp, { port: p.port, protocol: p.protocol });
      pairs.add(pair);
      const tp = p.targetPort;
      if (tp?.strVal !== undefined) errs.invalidEach(`${pp}.targetPort`, tp.strVal, isValidPortName(tp.strVal));
      else if (tp?.intVal !== undefined) errs.invalidEach(`${pp}.targetPort`, tp.intVal, isValidPortNum(tp.intVal));
      if (p.nodePort) {
        if (!needsNodePorts(svc)) errs.forbidden(`${pp}.nodePort`, `may not be used when \`type\` is '${spec.type}'`);
        else errs.invalidEach(`${pp}.nodePort`, p.nodePort, isValidPortNum(p.nodePort));
      }
    });
    validateEnum(spec.sessionAffinity, ['None', 'ClientIP'], 'spec.sessionAffinity', errs);
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (spec.sessionAffinity === 'ClientIP' && timeout !== undefined && (timeout < 1 || timeout > 86400)) {
      errs.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, 'must be greater than 0 and less than 86400');
    }
    if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig?.clientIP) {
      errs.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None');
    }
    validateLabels(spec.selector, 'spec.selector', errs);
    (spec.externalIPs ?? []).forEach((ip, i) => {
      if (!isIP(ip)) errs.invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
    });
    if (spec.externalTrafficPolicy) {
      if (spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') {
        errs.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set when `type` is \'NodePort\' or \'LoadBalancer\'');
      } else validateEnum(spec.externalTrafficPolicy, ['Cluster', 'Local'], 'spec.externalTrafficPolicy', errs);
    }
    if (spec.internalTrafficPolicy !== undefined && spec.type !== 'ExternalName') {
      validateEnum(spec.internalTrafficPolicy, ['Cluster', 'Local'], 'spec.internalTrafficPolicy', errs);
    }
    if (spec.ipFamilyPolicy !== undefined) validateEnum(spec.ipFamilyPolicy, ['SingleStack', 'PreferDualStack', 'RequireDualStack'], 'spec.ipFamilyPolicy', errs);
    (spec.ipFamilies ?? []).forEach((f, i) => {
      validateEnum(f, ['IPv4'], `spec.ipFamilies[${i}]`, errs);
    });
  },

  validateUpdate(svc, old, errs) {
    const o = old.spec;
    const n = svc.spec;
    if (o && n && needsClusterIP(old) && needsClusterIP(svc) && (o.clusterIP ?? '') !== (n.clusterIP ?? '')) {
      errs.invalid('spec.clusterIPs[0]', n.clusterIP ?? '', 'may not change once set');
    }
  },

  fields(svc) {
    return { 'spec.clusterIP': svc.spec?.clusterIP ?? '', 'spec.type': svc.spec?.type ?? '' };
  },
};
