// The kit's sample server: a complete k8ts component built only with the kit. It serves
// InfoService (which every kit server has), health, reflection and metrics, and is the target
// of the kit's integration and cross-language tests.
//
//   node packages/kit/dist/sample/main.js --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0
import { parseConfig, runMain, serverFlags, serverOptionsFromConfig, startServer } from '../index';
import type { FlagSpec } from '../index';

const COMPONENT = 'sample';

/** The sample's flags: the common server flags plus one of its own. */
export const flags: FlagSpec[] = [
  ...serverFlags,
  { name: 'greeting', type: 'string', default: 'hello', description: 'A setting of the sample, reported by InfoService.' },
  { name: 'api-token', type: 'string', default: '', description: 'A secret-looking setting, to show that InfoService redacts it.' },
];

runMain(COMPONENT, async () => {
  const config = parseConfig(COMPONENT, flags, process.argv.slice(2));
  const server = await startServer({
    component: COMPONENT,
    ...serverOptionsFromConfig(config),
    services: [],
    config,
  });
  server.setReady(true);
  return server;
});
