// The apiserver process: flags (and K8TS_* environment variables), then start(config).
import { parseConfig, runMain, serverFlags } from '@k8ts/kit';
import { type ApiserverConfig, COMPONENT, flags, start } from './index';

runMain(COMPONENT, async () => start(parseConfig<ApiserverConfig>(COMPONENT, [...serverFlags, ...flags], process.argv.slice(2))));
