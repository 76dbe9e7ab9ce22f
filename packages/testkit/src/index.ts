// @k8ts/testkit: the shared test harness. Integration tests start real nats-server processes
// (single or clustered, JetStream on, file storage in a temporary directory, free ports) and
// real service processes through these helpers, and never mock NATS or the network.
// startControlPlane starts the control plane the component harnesses share: nats-server, the
// k8ts store and an apiserver with static tokens and RBAC (from the built dist/main.js files).
// Tests that bind node, pod or Service addresses lease a 127.X.0.0/16 of their own
// (leaseTestNetwork), never the ranges of a default `k8ts up` cluster; real TCP and UDP servers
// stand in for pods (sockets); /proc helpers show what processes were left running.
export { freePort } from './ports';
export { startNats, startNatsCluster, natsServerBinary } from './nats';
export type { NatsServer, NatsCluster, StartNatsOptions } from './nats';
export { spawnService, waitFor } from './process';
export type { ServiceProcess, SpawnOptions } from './process';
export { startControlPlane, requireBuilt, STORE_MAIN, APISERVER_MAIN } from './controlplane';
export type { ControlPlane, ControlPlaneOptions, ControlPlaneUser } from './controlplane';
export { leaseTestNetwork, testNetworkLayout, cidrContains, NoTestNetworkError, RESERVED_OCTETS, TEST_NETWORK_OCTETS, MAX_NODE_INDEX, MAX_POD_CIDR_INDEX } from './network';
export type { TestNetwork } from './network';
export { isProcessAlive, killProcessGroup, findProcesses } from './procfs';
export type { ProcessInfo } from './procfs';
export {
  startTcpBackend,
  startSlowTcpBackend,
  startUdpBackend,
  tcpConnect,
  whoami,
  connectError,
  udpClient,
  udpRequest,
  inParallel,
  tally,
  closeSockets,
} from './sockets';
export type { TcpBackend, UdpBackend, TcpConnection } from './sockets';
