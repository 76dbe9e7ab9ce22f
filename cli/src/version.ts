// The CLI's version: the version of @k8ts/cli (K8TS_VERSION overrides it, as for the services).
import pkg from '../package.json';

export const VERSION: string = process.env.K8TS_VERSION || (pkg as { version: string }).version;
