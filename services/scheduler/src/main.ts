// k8ts-scheduler: flags (config.ts) -> typed config -> start(config). Everything else lives in index.ts and below.
import { parseConfig, runMain, serverFlags } from '@k8ts/kit';
import { type SchedulerFlags, flags } from './config';
import { start } from './index';

runMain('scheduler', async () => start(parseConfig<SchedulerFlags>('scheduler', [...serverFlags, ...flags], process.argv.slice(2))));
