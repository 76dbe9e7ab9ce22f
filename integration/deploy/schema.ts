// The Kubernetes schema of the kinds deploy/k8s renders, for checking them without a cluster:
// every field by name and type, closed (an unknown field, such as a misspelt `readinesProbe`, is
// an error, as `kubectl apply --validate=strict` would say), enums, quantities, names. It covers
// the fields of the Kubernetes API (apps/v1, v1, policy/v1, networking.k8s.io/v1) that these
// kinds have, not just the ones deploy/k8s uses today; a field it does not know fails the check
// and belongs here.

import { Quantity } from '@k8ts/machinery';

export type Schema =
  | 'string'
  | 'int'
  | 'bool'
  | 'quantity'
  | 'intOrString'
  | 'any'
  | { enum: string[] }
  | { obj: Record<string, Schema>; required?: string[] }
  | { arr: Schema }
  | { map: Schema };

const str = 'string';
const int = 'int';
const bool = 'bool';
const quantity = 'quantity';
const intOrString = 'intOrString';
const any = 'any';
const obj = (fields: Record<string, Schema>, required: string[] = []): Schema => ({ obj: fields, required });
const arr = (s: Schema): Schema => ({ arr: s });
const map = (s: Schema): Schema => ({ map: s });
const oneOf = (...values: string[]): Schema => ({ enum: values });

const labels = map(str);
const objectMeta = obj({ name: str, generateName: str, namespace: str, labels, annotations: labels, finalizers: arr(str), ownerReferences: arr(any) }, ['name']);
const templateMeta = obj({ name: str, labels, annotations: labels });
const labelSelector = obj({
  matchLabels: labels,
  matchExpressions: arr(obj({ key: str, operator: oneOf('In', 'NotIn', 'Exists', 'DoesNotExist'), values: arr(str) }, ['key', 'operator'])),
});
const keyRef = obj({ name: str, key: str, optional: bool }, ['key']);
const envVar = obj(
  {
    name: str,
    value: str,
    valueFrom: obj({
      fieldRef: obj({ apiVersion: str, fieldPath: str }, ['fieldPath']),
      resourceFieldRef: obj({ containerName: str, resource: str, divisor: quantity }, ['resource']),
      secretKeyRef: keyRef,
      configMapKeyRef: keyRef,
    }),
  },
  ['name'],
);
const envFrom = obj({ prefix: str, secretRef: obj({ name: str, optional: bool }), configMapRef: obj({ name: str, optional: bool }) });
const probe = obj({
  grpc: obj({ port: int, service: str }, ['port']),
  httpGet: obj({ path: str, port: intOrString, host: str, scheme: oneOf('HTTP', 'HTTPS'), httpHeaders: arr(obj({ name: str, value: str }, ['name', 'value'])) }, ['port']),
  tcpSocket: obj({ port: intOrString, host: str }, ['port']),
  exec: obj({ command: arr(str) }),
  initialDelaySeconds: int,
  periodSeconds: int,
  timeoutSeconds: int,
  successThreshold: int,
  failureThreshold: int,
  terminationGracePeriodSeconds: int,
});
const handler = obj({ exec: obj({ command: arr(str) }), httpGet: any, tcpSocket: any, sleep: obj({ seconds: int }, ['seconds']) });
const capabilities = obj({ add: arr(str), drop: arr(str) });
const seccomp = obj({ type: oneOf('RuntimeDefault', 'Localhost', 'Unconfined'), localhostProfile: str }, ['type']);
const containerSecurity = obj({
  allowPrivilegeEscalation: bool,
  privileged: bool,
  readOnlyRootFilesystem: bool,
  runAsNonRoot: bool,
  runAsUser: int,
  runAsGroup: int,
  capabilities,
  seccompProfile: seccomp,
  procMount: str,
  seLinuxOptions: any,
  appArmorProfile: any,
});
const container = obj(
  {
    name: str,
    image: str,
    imagePullPolicy: oneOf('Always', 'IfNotPresent', 'Never'),
    command: arr(str),
    args: arr(str),
    workingDir: str,
    env: arr(envVar),
    envFrom: arr(envFrom),
    ports: arr(obj({ name: str, containerPort: int, hostPort: int, hostIP: str, protocol: oneOf('TCP', 'UDP', 'SCTP') }, ['containerPort'])),
    resources: obj({ requests: map(quantity), limits: map(quantity), claims: arr(any) }),
    startupProbe: probe,
    livenessProbe: probe,
    readinessProbe: probe,
    lifecycle: obj({ postStart: handler, preStop: handler }),
    securityContext: containerSecurity,
    volumeMounts: arr(obj({ name: str, mountPath: str, readOnly: bool, subPath: str, subPathExpr: str, mountPropagation: str }, ['name', 'mountPath'])),
    terminationMessagePath: str,
    terminationMessagePolicy: oneOf('File', 'FallbackToLogsOnError'),
    restartPolicy: oneOf('Always'),
    stdin: bool,
    tty: bool,
  },
  ['name', 'image'],
);
const keyToPath = arr(obj({ key: str, path: str, mode: int }, ['key', 'path']));
const volume = obj(
  {
    name: str,
    emptyDir: obj({ medium: oneOf('', 'Memory'), sizeLimit: quantity }),
    secret: obj({ secretName: str, defaultMode: int, items: keyToPath, optional: bool }),
    configMap: obj({ name: str, defaultMode: int, items: keyToPath, optional: bool }),
    persistentVolumeClaim: obj({ claimName: str, readOnly: bool }, ['claimName']),
    projected: any,
    downwardAPI: any,
  },
  ['name'],
);
const toleration = obj({ key: str, operator: oneOf('Exists', 'Equal'), value: str, effect: oneOf('NoSchedule', 'PreferNoSchedule', 'NoExecute'), tolerationSeconds: int });
const podSpec = obj(
  {
    containers: arr(container),
    initContainers: arr(container),
    volumes: arr(volume),
    serviceAccountName: str,
    automountServiceAccountToken: bool,
    enableServiceLinks: bool,
    shareProcessNamespace: bool,
    hostNetwork: bool,
    hostPID: bool,
    hostIPC: bool,
    terminationGracePeriodSeconds: int,
    restartPolicy: oneOf('Always', 'OnFailure', 'Never'),
    dnsPolicy: oneOf('ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'),
    nodeSelector: labels,
    priorityClassName: str,
    securityContext: obj({
      runAsNonRoot: bool,
      runAsUser: int,
      runAsGroup: int,
      fsGroup: int,
      fsGroupChangePolicy: oneOf('OnRootMismatch', 'Always'),
      supplementalGroups: arr(int),
      seccompProfile: seccomp,
      sysctls: arr(obj({ name: str, value: str }, ['name', 'value'])),
      seLinuxOptions: any,
      appArmorProfile: any,
    }),
    tolerations: arr(toleration),
    affinity: any,
    topologySpreadConstraints: arr(
      obj(
        {
          maxSkew: int,
          topologyKey: str,
          whenUnsatisfiable: oneOf('DoNotSchedule', 'ScheduleAnyway'),
          labelSelector,
          minDomains: int,
          matchLabelKeys: arr(str),
          nodeAffinityPolicy: oneOf('Honor', 'Ignore'),
          nodeTaintsPolicy: oneOf('Honor', 'Ignore'),
        },
        ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
      ),
    ),
    imagePullSecrets: arr(obj({ name: str })),
  },
  ['containers'],
);
const podTemplate = obj({ metadata: templateMeta, spec: podSpec }, ['spec']);
const rollingUpdate = obj({ maxSurge: intOrString, maxUnavailable: intOrString, partition: int });
const pvc = obj(
  {
    metadata: obj({ name: str, labels, annotations: labels }, ['name']),
    spec: obj(
      {
        accessModes: arr(oneOf('ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod')),
        resources: obj({ requests: map(quantity), limits: map(quantity) }),
        storageClassName: str,
        volumeMode: oneOf('Filesystem', 'Block'),
      },
      ['accessModes', 'resources'],
    ),
  },
  ['metadata', 'spec'],
);
const networkPolicyPeer = obj({ podSelector: labelSelector, namespaceSelector: labelSelector, ipBlock: obj({ cidr: str, except: arr(str) }, ['cidr']) });
const networkPolicyPort = obj({ port: intOrString, endPort: int, protocol: oneOf('TCP', 'UDP', 'SCTP') });
const top = (fields: Record<string, Schema>, required: string[] = []): Schema =>
  obj({ apiVersion: str, kind: str, metadata: objectMeta, ...fields }, ['apiVersion', 'kind', 'metadata', ...required]);

/** kind -> [apiVersion, schema] */
export const KINDS: Record<string, [string, Schema]> = {
  Namespace: ['v1', top({ spec: obj({ finalizers: arr(str) }) })],
  ServiceAccount: ['v1', top({ automountServiceAccountToken: bool, secrets: arr(any), imagePullSecrets: arr(obj({ name: str })) })],
  ConfigMap: ['v1', top({ data: map(str), binaryData: map(str), immutable: bool })],
  Secret: ['v1', top({ type: str, data: map(str), stringData: map(str), immutable: bool })],
  Service: [
    'v1',
    top(
      {
        spec: obj({
          type: oneOf('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
          selector: labels,
          clusterIP: str,
          clusterIPs: arr(str),
          publishNotReadyAddresses: bool,
          sessionAffinity: oneOf('None', 'ClientIP'),
          internalTrafficPolicy: oneOf('Cluster', 'Local'),
          externalTrafficPolicy: oneOf('Cluster', 'Local'),
          ipFamilyPolicy: oneOf('SingleStack', 'PreferDualStack', 'RequireDualStack'),
          ports: arr(
            obj({ name: str, port: int, targetPort: intOrString, nodePort: int, protocol: oneOf('TCP', 'UDP', 'SCTP'), appProtocol: str }, ['port']),
          ),
        }),
      },
      ['spec'],
    ),
  ],
  Deployment: [
    'apps/v1',
    top(
      {
        spec: obj(
          {
            replicas: int,
            selector: labelSelector,
            template: podTemplate,
            strategy: obj({ type: oneOf('RollingUpdate', 'Recreate'), rollingUpdate }),
            minReadySeconds: int,
            revisionHistoryLimit: int,
            progressDeadlineSeconds: int,
            paused: bool,
          },
          ['selector', 'template'],
        ),
      },
      ['spec'],
    ),
  ],
  StatefulSet: [
    'apps/v1',
    top(
      {
        spec: obj(
          {
            replicas: int,
            serviceName: str,
            selector: labelSelector,
            template: podTemplate,
            podManagementPolicy: oneOf('OrderedReady', 'Parallel'),
            updateStrategy: obj({ type: oneOf('RollingUpdate', 'OnDelete'), rollingUpdate }),
            volumeClaimTemplates: arr(pvc),
            revisionHistoryLimit: int,
            minReadySeconds: int,
            persistentVolumeClaimRetentionPolicy: obj({ whenDeleted: oneOf('Retain', 'Delete'), whenScaled: oneOf('Retain', 'Delete') }),
            ordinals: obj({ start: int }),
          },
          ['selector', 'template', 'serviceName'],
        ),
      },
      ['spec'],
    ),
  ],
  DaemonSet: [
    'apps/v1',
    top(
      {
        spec: obj(
          {
            selector: labelSelector,
            template: podTemplate,
            updateStrategy: obj({ type: oneOf('RollingUpdate', 'OnDelete'), rollingUpdate }),
            minReadySeconds: int,
            revisionHistoryLimit: int,
          },
          ['selector', 'template'],
        ),
      },
      ['spec'],
    ),
  ],
  NetworkPolicy: [
    'networking.k8s.io/v1',
    top(
      {
        spec: obj(
          {
            podSelector: labelSelector,
            policyTypes: arr(oneOf('Ingress', 'Egress')),
            ingress: arr(obj({ from: arr(networkPolicyPeer), ports: arr(networkPolicyPort) })),
            egress: arr(obj({ to: arr(networkPolicyPeer), ports: arr(networkPolicyPort) })),
          },
          ['podSelector'],
        ),
      },
      ['spec'],
    ),
  ],
  PodDisruptionBudget: [
    'policy/v1',
    top(
      {
        spec: obj(
          {
            selector: labelSelector,
            minAvailable: intOrString,
            maxUnavailable: intOrString,
            unhealthyPodEvictionPolicy: oneOf('IfHealthyBudget', 'AlwaysAllow'),
          },
          ['selector'],
        ),
      },
      ['spec'],
    ),
  ],
};

/** A Kubernetes quantity, by @k8ts/machinery's parser (Kubernetes' ParseQuantity). */
function isQuantity(text: string): boolean {
  try {
    Quantity.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Every problem of `value` against `schema`, each with its field path. */
export function validate(value: unknown, schema: Schema, at = ''): string[] {
  const here = at || '.';
  if (schema === 'any') return [];
  if (value === null || value === undefined) return [`${here}: null`];
  switch (schema) {
    case 'string':
      return typeof value === 'string' ? [] : [`${here}: expected a string, got ${JSON.stringify(value)}`];
    case 'int':
      return Number.isInteger(value) ? [] : [`${here}: expected an integer, got ${JSON.stringify(value)}`];
    case 'bool':
      return typeof value === 'boolean' ? [] : [`${here}: expected true or false, got ${JSON.stringify(value)}`];
    case 'intOrString':
      return Number.isInteger(value) || (typeof value === 'string' && value !== '') ? [] : [`${here}: expected an integer or a string, got ${JSON.stringify(value)}`];
    case 'quantity':
      return (typeof value === 'string' && isQuantity(value)) || (typeof value === 'number' && value >= 0)
        ? []
        : [`${here}: expected a quantity such as 100m, 1, 256Mi; got ${JSON.stringify(value)}`];
  }
  if ('enum' in schema) return typeof value === 'string' && schema.enum.includes(value) ? [] : [`${here}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
  if ('arr' in schema) {
    if (!Array.isArray(value)) return [`${here}: expected a list`];
    return value.flatMap((v, i) => validate(v, schema.arr, `${at}[${i}]`));
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [`${here}: expected an object`];
  const o = value as Record<string, unknown>;
  if ('map' in schema) return Object.entries(o).flatMap(([k, v]) => validate(v, schema.map, `${at}.${k}`));
  const errors: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const s = schema.obj[k];
    if (!s) errors.push(`${at}.${k}: unknown field`);
    else errors.push(...validate(v, s, `${at}.${k}`));
  }
  for (const k of schema.required ?? []) if (!(k in o)) errors.push(`${at}.${k}: required`);
  return errors;
}

/** DNS-1123 subdomain (most object names). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** DNS-1035 label (Service names). */
export const DNS_LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 label (container and volume names). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** IANA service name (named ports): at most 15 characters, at least one letter. */
export const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
