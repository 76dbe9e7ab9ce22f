// Events: reports about other objects; they live in the involved object's namespace and are
// stored with a TTL (a store lease, see --event-ttl). Field selectors on involvedObject.*,
// reason, type, source and reportingComponent let clients find the events of one object.
import { type corev1, kindFor } from '@k8ts/api';
import type { Strategy } from './types';
import { isDNS1123Subdomain, isQualifiedName, validateEnum } from './validation';

export const eventStrategy: Strategy<corev1.Event> = {
  kind: kindFor('v1', 'Event')!,
  hasStatus: false,
  nameCheck: isDNS1123Subdomain,
  // Events expire: --event-ttl, through the registry's event leases.
  storedWithTTL: true,

  validate(ev, errs) {
    const io = ev.involvedObject;
    if (!io) errs.required('involvedObject');
    else {
      if (!io.kind) errs.required('involvedObject.kind');
      if (!io.name) errs.required('involvedObject.name');
      if (io.namespace && io.namespace !== ev.metadata?.namespace) {
        errs.invalid('involvedObject.namespace', io.namespace, 'does not match event.namespace');
      }
    }
    if (ev.type) validateEnum(ev.type, ['Normal', 'Warning'], 'type', errs);
    if (ev.reason && ev.reason.length > 128) errs.tooLong('reason', 128);
    if (ev.action && ev.action.length > 128) errs.tooLong('action', 128);
    if (ev.reportingComponent) errs.invalidEach('reportingComponent', ev.reportingComponent, isQualifiedName(ev.reportingComponent));
    if ((ev.count ?? 0) < 0) errs.invalid('count', ev.count, 'must be greater than or equal to 0');
  },

  fields(ev) {
    const io = ev.involvedObject;
    return {
      'involvedObject.kind': io?.kind ?? '',
      'involvedObject.namespace': io?.namespace ?? '',
      'involvedObject.name': io?.name ?? '',
      'involvedObject.uid': io?.uid ?? '',
      'involvedObject.apiVersion': io?.apiVersion ?? '',
      'involvedObject.resourceVersion': io?.resourceVersion ?? '',
      'involvedObject.fieldPath': io?.fieldPath ?? '',
      reason: ev.reason ?? '',
      reportingComponent: ev.reportingComponent ?? '',
      source: ev.source?.component ?? '',
      type: ev.type ?? '',
    };
  },
};
