// The runtime interface between the pod worker and whatever runs containers: child processes
// (`process`), nothing at all (`sim`), and later a CRI runtime. It is shaped after the CRI: pod
// sandboxes (here: a pod IP), images, containers with an attempt number, exec, logs. The pod
// worker decides *what* should run; a runtime only runs, stops and reports.
import type { corev1 } from '@k8ts/api';

/** The identity of a pod as a runtime needs it. */
export interface PodSandboxConfig {
  uid: string;
  name: string;
  namespace: string;
  /** The pod's annotations (the sim runtime reads its behaviour from them). */
  annotations?: Record<string, string>;
}

/** A pod's sandbox: its network identity. Exists from the first container until removal. */
export interface PodSandbox {
  podUid: string;
  name: string;
  namespace: string;
  /** The pod's IP, from the node's pod CIDR. Empty once the sandbox was stopped. */
  ip: string;
  /** Epoch ms. */
  createdAt: number;
  /** True once stopPodSandbox released the IP (the pod is terminal or being removed). */
  stopped: boolean;
}

/** An image as resolved by a runtime. */
export interface ImageRef {
  /** The image name as the pod spec gave it. */
  image: string;
  /** A stable identifier of what runs, e.g. "sha256:…" of the image table entry. */
  imageId: string;
}

/** What to run: one attempt of one container of a pod. */
export interface ContainerConfig {
  pod: PodSandboxConfig;
  /** The container's spec (command, args, workingDir, ports, image). */
  spec: corev1.Container;
  /** The container's restart count when this instance starts (0, 1, 2, …). */
  attempt: number;
  /** The resolved environment (downward API, ConfigMaps, Secrets, K8TS_* variables). */
  env: Record<string, string>;
  /** The memory limit in bytes; a container above it is killed and reported OOMKilled. */
  memoryLimitBytes?: number;
}

export type ContainerState = 'running' | 'exited';

/** A container instance as a runtime reports it. Times are epoch ms. */
export interface ContainerInfo {
  /** Unique within the runtime; reported as "<runtime>://<id>". */
  id: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  /** The container's name in the pod spec. */
  name: string;
  attempt: number;
  image: string;
  imageId: string;
  state: ContainerState;
  /** The process (group leader) id, for the process runtime. */
  pid?: number;
  createdAt: number;
  startedAt: number;
  finishedAt?: number;
  exitCode?: number;
  /** The signal that killed the container's main process, when known. */
  signal?: number;
  /** For an exited container: Completed, Error, OOMKilled, StartError, ContainerStatusUnknown. */
  reason?: string;
  message?: string;
  /** The current log file ("" when the runtime keeps no logs). */
  logPath: string;
  /** True when this runtime instance found the container running at init (kubelet restart). */
  adopted?: boolean;
}

/** The result of running a command in a container's context (exec probes). */
export interface ExecResult {
  exitCode: number;
  /** stdout and stderr, cut to a few KiB. */
  output: string;
  timedOut: boolean;
}

/** What happened to a container, for the pod worker (like the kubelet's PLEG). */
export interface ContainerEvent {
  type: 'started' | 'exited';
  container: ContainerInfo;
}

/** The outcome of a simulated probe (sim runtime), replacing a real one. */
export interface SimulatedProbe {
  ok: boolean;
  message: string;
}

/** An image that cannot be resolved: the container waits with ErrImagePull/ImagePullBackOff. */
export class ImagePullError extends Error {
  override name = 'ImagePullError';
  constructor(
    readonly image: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A container that cannot be created from its spec (for example a local image without a
 * command): it waits with reason CreateContainerError.
 */
export class CreateContainerError extends Error {
  override name = 'CreateContainerError';
}

export interface Runtime {
  /** "process" or "sim"; containerIDs are "<type>://<id>". */
  readonly type: string;
  readonly version: string;

  /**
   * Loads what the runtime left on disk: sandboxes, and containers, adopting those still
   * running (kubelet restart) and marking the others exited. Call once, before anything else.
   */
  init(): Promise<void>;
  /** Stops background work (monitors, timers). Containers keep running for the next instance. */
  close(): Promise<void>;

  /** Creates the pod's sandbox (allocates its IP); returns the existing one when it exists. */
  runPodSandbox(pod: PodSandboxConfig): Promise<PodSandbox>;
  getPodSandbox(podUid: string): PodSandbox | undefined;
  listPodSandboxes(): PodSandbox[];
  /** Kills what still runs in the pod at once and releases its IP; keeps logs and records. */
  stopPodSandbox(podUid: string): Promise<void>;
  /** stopPodSandbox, then forgets the pod: its containers, records and logs. */
  removePodSandbox(podUid: string): Promise<void>;

  /** Resolves an image; throws ImagePullError when it cannot. */
  pullImage(image: string): Promise<ImageRef>;

  /**
   * Starts one attempt of a container in an existing sandbox. Resolves with the instance,
   * running, or already exited with reason StartError when its command cannot be started.
   * Throws ImagePullError or CreateContainerError when there is nothing to start.
   */
  startContainer(config: ContainerConfig): Promise<ContainerInfo>;
  /**
   * Stops a container: SIGTERM, then SIGKILL once gracePeriodMs has passed (0: SIGKILL at
   * once). Resolves with the exited instance; undefined for an unknown id.
   */
  stopContainer(id: string, gracePeriodMs: number): Promise<ContainerInfo | undefined>;
  /** Forgets an exited container: its record and its logs. */
  removeContainer(id: string): Promise<void>;
  /** Every container instance the runtime knows, optionally only one pod's, oldest first. */
  listContainers(podUid?: string): ContainerInfo[];
  containerStatus(id: string): ContainerInfo | undefined;

  /** Runs a command with the container's environment and working directory. */
  exec(id: string, command: string[], timeoutMs: number): Promise<ExecResult>;
  /** The container's log files, oldest first, the current one last ([] when none). */
  logFiles(id: string): string[];

  /** Subscribes to container events; returns the unsubscribe function. */
  onContainerEvent(listener: (event: ContainerEvent) => void): () => void;

  /** A runtime without real processes answers probes itself (sim); others leave it unset. */
  simulateProbe?(id: string, kind: 'exec' | 'httpGet' | 'tcpSocket' | 'grpc'): SimulatedProbe;
}
