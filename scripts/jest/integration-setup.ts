// Integration tests start real processes (nats-server clusters, services) on a shared,
// sometimes busy machine: give each test two minutes. Tests never assert timings.
jest.setTimeout(120_000);
