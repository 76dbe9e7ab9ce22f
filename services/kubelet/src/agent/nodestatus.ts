// What a kubelet says about its node: the Node object it registers (labels, pod CIDR) and the
// status it keeps current (capacity, allocatable, conditions, addresses, the kubelet API port,
// system info). Pure functions over a NodeDescription plus small readers of /proc and the
// file system for the pressure conditions.
import * as fs from 'fs';
import * as os from 'os';
import type { corev1 } from '@k8ts/api';
import { Quantity } from '@k8ts/machinery';
import type { NodeAllocatable } from '../pod/admission';

/** Everything that goes into a node's object, as the kubelet knows it. */
export interface NodeDescription {
  name: string;
  /** The InternalIP; the kubelet API listens there (or on --listen). */
  ip: string;
  /** Capacity (= allocatable: k8ts reserves nothing for the system). */
  capacity: NodeAllocatable;
  /** spec.podCIDR to register with; empty: leave it to the node IPAM. */
  podCIDR: string;
  labels: Record<string, string>;
  /** The port of the kubelet API (status.daemonEndpoints.kubeletEndpoint.Port). */
  port: number;
  /** "<runtime>://<version>". */
  runtimeVersion: string;
  kubeletVersion: string;
  /** Simulated node: no real pressure, and a nodeInfo that says so. */
  simulated: boolean;
}

/** Why the node is (not) ready. */
export interface Readiness {
  ready: boolean;
  message: string;
}

/** The pressure conditions' states (true = under pressure). */
export interface Pressure {
  memory: boolean;
  disk: boolean;
  pid: boolean;
}

export const NO_PRESSURE: Pressure = { memory: false, disk: false, pid: false };

/** Kubernetes' hard eviction thresholds: memory.available < 100Mi, nodefs.available < 10%. */
export const MEMORY_PRESSURE_BYTES = 100 * 2 ** 20;
export const DISK_PRESSURE_RATIO = 0.1;

/** Cpu as Kubernetes' kubelet reports it (milli-cpu, DecimalSI): 4000 -> "4", 3500 -> "3500m". */
export function cpuQuantity(milli: number): string {
  return Quantity.fromMilli(milli, 'DecimalSI').toString();
}

/** Memory as Kubernetes' kubelet reports it (bytes, BinarySI): 16331672 KiB -> "16331672Ki", 8 GiB -> "8Gi". */
export function bytesQuantity(bytes: number): string {
  return Quantity.fromValue(bytes, 'BinarySI').toString();
}

function resources(c: NodeAllocatable): { [key: string]: { value: string } } {
  return { cpu: { value: cpuQuantity(c.cpuMilli) }, memory: { value: bytesQuantity(c.memoryBytes) }, pods: { value: String(c.pods) } };
}

function goArch(): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}

function readTrimmed(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

let hostInfo: Omit<corev1.NodeSystemInfo, 'containerRuntimeVersion' | 'kubeletVersion' | 'kubeProxyVersion'> | undefined;

/** What the machine says about itself (read once). */
function machineInfo(): NonNullable<typeof hostInfo> {
  if (!hostInfo) {
    const osRelease = readTrimmed('/etc/os-release');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1];
    hostInfo = {
      machineID: readTrimmed('/etc/machine-id'),
      systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid'),
      bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
      kernelVersion: os.release(),
      osImage: pretty || `${os.type()} ${os.release()}`,
      operatingSystem: process.platform,
      architecture: goArch(),
    };
  }
  return hostInfo;
}

export function nodeSystemInfo(d: NodeDescription): corev1.NodeSystemInfo {
  const m = machineInfo();
  return {
    ...m,
    // Simulated nodes share the machine; their machine and system ids are their own.
    machineID: d.simulated ? `sim-${d.name}` : m.machineID,
    systemUUID: d.simulated ? '' : m.systemUUID,
    containerRuntimeVersion: d.runtimeVersion,
    kubeletVersion: d.kubeletVersion,
    kubeProxyVersion: '',
  };
}

/** The labels a kubelet puts on its Node (Kubernetes' well-known ones, then --node-labels). */
export function nodeLabels(d: Pick<NodeDescription, 'name' | 'labels'>): Record<string, string> {
  return { 'kubernetes.io/hostname': d.name, 'kubernetes.io/os': process.platform, 'kubernetes.io/arch': goArch(), 'beta.kubernetes.io/os': process.platform, 'beta.kubernetes.io/arch': goArch(), ...d.labels };
}

interface ConditionSpec {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

function conditionSpecs(readiness: Readiness, p: Pressure): ConditionSpec[] {
  return [
    p.memory
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    p.disk
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    p.pid
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    readiness.ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: readiness.message },
  ];
}

/**
 * The node's conditions as of `now`: heartbeat now, transition time kept from `previous` while
 * the status holds (a condition someone else changed, e.g. Ready Unknown from the node
 * lifecycle controller, transitions).
 */
export function nodeConditions(previous: corev1.NodeCondition[] | undefined, readiness: Readiness, pressure: Pressure, now: string): corev1.NodeCondition[] {
  return conditionSpecs(readiness, pressure).map((c) => {
    const old = previous?.find((o) => o.type === c.type);
    const since = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return { ...c, lastHeartbeatTime: now, lastTransitionTime: since };
  });
}

/** The full status the kubelet posts. */
export function nodeStatus(d: NodeDescription, previous: corev1.NodeStatus | undefined, readiness: Readiness, pressure: Pressure, now: string): corev1.NodeStatus {
  return {
    capacity: resources(d.capacity),
    allocatable: resources(d.capacity),
    conditions: nodeConditions(previous?.conditions, readiness, pressure, now),
    addresses: [
      { type: 'InternalIP', address: d.ip },
      { type: 'Hostname', address: d.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: d.port } },
    nodeInfo: nodeSystemInfo(d),
    images: [],
  };
}

/** The Node to create. */
export function nodeObject(d: NodeDescription, status: corev1.NodeStatus): corev1.Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: d.name, labels: nodeLabels(d) },
    spec: d.podCIDR ? { podCIDR: d.podCIDR, podCIDRs: [d.podCIDR] } : {},
    status,
  };
}

/**
 * What of a status matters for deciding whether to post it: everything but the heartbeat
 * times. Two statuses with the same key need no write (until the report period says so).
 */
export function statusKey(s: corev1.NodeStatus | undefined): string {
  if (!s) return '';
  const q = (m: { [key: string]: { value?: string } } | undefined) =>
    Object.entries(m ?? {})
      .map(([k, v]) => `${k}=${v?.value ?? ''}`)
      .sort()
      .join(',');
  return JSON.stringify([
    q(s.capacity),
    q(s.allocatable),
    (s.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']).sort(),
    (s.addresses ?? []).map((a) => [a.type, a.address]),
    s.daemonEndpoints?.kubeletEndpoint?.Port ?? 0,
    s.nodeInfo?.containerRuntimeVersion ?? '',
    s.nodeInfo?.kubeletVersion ?? '',
    s.nodeInfo?.bootID ?? '',
  ]);
}

/** MemAvailable from /proc/meminfo in bytes (os.freemem() where there is no /proc). */
export function memoryAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readTrimmed('/proc/meminfo'));
  return m ? Number(m[1]) * 1024 : os.freemem();
}

/** The share of the file system holding `dir` that is available (1 when unknown). */
export function diskAvailableRatio(dir: string): number {
  try {
    const st = fs.statfsSync(dir);
    return st.blocks > 0 ? st.bavail / st.blocks : 1;
  } catch {
    return 1;
  }
}

/** The pressure conditions of this machine, by Kubernetes' default hard eviction thresholds. */
export function hostPressure(rootDir: string): Pressure {
  return { memory: memoryAvailable() < MEMORY_PRESSURE_BYTES, disk: diskAvailableRatio(rootDir) < DISK_PRESSURE_RATIO, pid: false };
}
