// Endpoints: addresses and ports of a service, usually written by the endpoints controller.
import { type corev1, kindFor } from '@k8ts/api';
import { PROTOCOLS } from './podspec';
import type { Strategy } from './types';
import { isDNS1123Label, isDNS1123Subdomain, isIP, isValidPortNum, validateEnum } from './validation';

export const endpointsStrategy: Strategy<corev1.Endpoints> = {
  kind: kindFor('v1', 'Endpoints')!,
  hasStatus: false,
  nameCheck: isDNS1123Subdomain,

  defaults(ep) {
    for (const s of ep.subsets ?? []) for (const p of s.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
  },

  validate(ep, errs) {
    (ep.subsets ?? []).forEach((s, i) => {
      const p = `subsets[${i}]`;
      if ((s.addresses ?? []).length === 0 && (s.notReadyAddresses ?? []).length === 0) {
        errs.required(p, 'must specify `addresses` or `notReadyAddresses`');
      }
      for (const [list, what] of [
        [s.addresses, 'addresses'],
        [s.notReadyAddresses, 'notReadyAddresses'],
      ] as const) {
        (list ?? []).forEach((a, j) => {
          const ap = `${p}.${what}[${j}]`;
          if (!isIP(a.ip ?? '')) errs.invalid(`${ap}.ip`, a.ip ?? '', 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
          if (a.hostname) errs.invalidEach(`${ap}.hostname`, a.hostname, isDNS1123Label(a.hostname));
          if (a.nodeName) errs.invalidEach(`${ap}.nodeName`, a.nodeName, isDNS1123Subdomain(a.nodeName));
        });
      }
      const names = new Set<string>();
      (s.ports ?? []).forEach((port, j) => {
        const pp = `${p}.ports[${j}]`;
        if ((s.ports ?? []).length > 1 && !port.name) errs.required(`${pp}.name`);
        if (port.name) {
          errs.invalidEach(`${pp}.name`, port.name, isDNS1123Label(port.name));
          if (names.has(port.name)) errs.duplicate(`${pp}.name`, port.name);
          names.add(port.name);
        }
        errs.invalidEach(`${pp}.port`, port.port ?? 0, isValidPortNum(port.port ?? 0));
        validateEnum(port.protocol, PROTOCOLS, `${pp}.protocol`, errs);
      });
    });
  },
};
