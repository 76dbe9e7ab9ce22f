// @k8ts/testkit: the shared test harness. Integration tests start real nats-server processes
// (single or clustered, JetStream on, file storage in a temporary directory, free ports) and
// real service processes through these helpers, and never mock NATS or the network.
// startControlPlane starts the control plane the component harnesses share: nats-server, the
// k8ts store and an apiserver with static tokens and RBAC (from the built dist/main.js files).
export { freePort } from './ports';
export { startNats, startNatsCluster, natsServerBinary } from './nats';
export type { NatsServer, NatsCluster, StartNatsOptions } from './nats';
export { spawnService, waitFor } from './process';
export type { ServiceProcess, SpawnOptions } from './process';
export { startControlPlane, requireBuilt, STORE_MAIN, APISERVER_MAIN } from './controlplane';
export type { ControlPlane, ControlPlaneOptions, ControlPlaneUser } from './controlplane';
