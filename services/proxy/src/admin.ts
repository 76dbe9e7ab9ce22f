// The admin API (k8ts.proxy.v1.ProxyService): the engine's rules, listener states and
// counters, as protobuf messages.
import * as grpc from '@grpc/grpc-js';
import { proxyv1 } from '@k8ts/api';
import { grpcError } from '@k8ts/kit';
import type { ProxyEngine, RuleStatus } from './engine';
import type { ListenerState } from './listener';
import { hostPort } from './rules';
import type { TrafficStats } from './stats';

/** Facts about the proxy process the admin API reports next to the rules. */
export interface AdminInfo {
  nodeName: string;
  /** Where NodePort listeners are opened. */
  nodeIP: string;
  lastSyncTime?: Date;
  syncCount: number;
}

const STATES: Record<ListenerState, proxyv1.ListenerState> = {
  binding: proxyv1.ListenerState.LISTENER_STATE_BINDING,
  listening: proxyv1.ListenerState.LISTENER_STATE_LISTENING,
  refusing: proxyv1.ListenerState.LISTENER_STATE_REFUSING,
  error: proxyv1.ListenerState.LISTENER_STATE_ERROR,
};

function statsMessage(s: TrafficStats): proxyv1.TrafficStats {
  return {
    activeConnections: s.active,
    totalConnections: s.total,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    errors: s.errors,
  };
}

/** One rule as the API reports it. */
export function rulesMessage(s: RuleStatus): proxyv1.ServicePortRules {
  const r = s.rule;
  return {
    key: r.key,
    namespace: r.namespace,
    name: r.name,
    portName: r.portName,
    protocol: r.protocol,
    clusterIp: r.clusterIP,
    port: r.port,
    nodePort: r.nodePort,
    targetPort: r.targetPort,
    sessionAffinity: r.sessionAffinity,
    sessionAffinityTimeoutSeconds: r.affinityTimeoutSeconds,
    listeners: s.listeners.map((l) => ({
      kind: l.spec.kind,
      address: hostPort(l.spec.host, l.spec.port),
      state: STATES[l.state],
      error: l.error,
    })),
    endpoints: s.endpoints.map((e) => ({
      ip: e.target.ip,
      port: e.target.port,
      nodeName: e.target.nodeName,
      podName: e.target.podName,
      stats: statsMessage(e.stats),
    })),
    stats: statsMessage(s.stats),
    affinityClients: s.affinityClients,
  };
}

function encodeContinue(key: string): string {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');
}

function decodeContinue(token: string): string | undefined {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return typeof v?.after === 'string' ? v.after : undefined;
  } catch {
    return undefined;
  }
}

/** The ProxyService implementation over an engine. */
export function adminService(engine: ProxyEngine, info: () => AdminInfo): proxyv1.ProxyServiceServer {
  return {
    listRules(call, callback) {
      const req = call.request;
      const limit = req.limit ?? 0;
      if (limit < 0) {
        callback(grpcError(grpc.status.INVALID_ARGUMENT, `limit: must not be negative, got ${limit}`));
        return;
      }
      let after: string | undefined;
      if (req.continue) {
        after = decodeContinue(req.continue);
        if (after === undefined) {
          callback(grpcError(grpc.status.INVALID_ARGUMENT, 'continue: not a token returned by ListRules'));
          return;
        }
      }
      const ns = req.namespace ?? '';
      let all = engine.status().filter((s) => (ns === '' || s.rule.namespace === ns) && (after === undefined || s.rule.key > after));
      let next = '';
      if (limit > 0 && all.length > limit) {
        all = all.slice(0, limit);
        next = encodeContinue(all[all.length - 1].rule.key);
      }
      const i = info();
      callback(null, {
        rules: all.map(rulesMessage),
        continue: next,
        nodeName: i.nodeName,
        nodeIp: i.nodeIP,
        lastSyncTime: i.lastSyncTime?.toISOString(),
        syncCount: i.syncCount,
      });
    },
    getRules(call, callback) {
      const { namespace = '', name = '' } = call.request;
      if (!namespace || !name) {
        callback(grpcError(grpc.status.INVALID_ARGUMENT, `${!namespace ? 'namespace' : 'name'}: required`));
        return;
      }
      const key = `${namespace}/${name}`;
      const rules = engine.status().filter((s) => s.rule.serviceKey === key);
      if (rules.length === 0) {
        callback(grpcError(grpc.status.NOT_FOUND, `the proxy has no rules for service ${key}`));
        return;
      }
      callback(null, { rules: rules.map(rulesMessage) });
    },
  };
}
