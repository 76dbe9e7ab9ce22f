// @k8ts/testkit: the shared test harness. Integration tests start real nats-server processes
// (single or clustered, JetStream on, file storage in a temporary directory, free ports) and
// real service processes through these helpers, and never mock NATS or the network.
export { freePort } from './ports';
export { startNats, startNatsCluster, natsServerBinary } from './nats';
export type { NatsServer, NatsCluster, StartNatsOptions } from './nats';
export { spawnService, waitFor } from './process';
export type { ServiceProcess, SpawnOptions } from './process';
