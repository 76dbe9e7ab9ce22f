// The apiserver process: flags (config.ts, and K8TS_* environment variables) into the typed config, then start(config).
import { parseConfig, runMain, serverFlags } from '@k8ts/kit';
import { type ApiserverConfig, flags } from './config';
import { COMPONENT, start } from './index';

runMain(COMPONENT, async () => start(parseConfig<ApiserverConfig>(COMPONENT, [...serverFlags, ...flags], process.argv.slice(2))));
