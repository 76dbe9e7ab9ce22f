// k8ts-scheduler: flags -> start(config). Everything else lives in index.ts and below.
import { parseConfig, runMain, serverFlags } from '@k8ts/kit';
import { flags, start } from './index';
import type { SchedulerFlags } from './index';

runMain('scheduler', async () => start(parseConfig<SchedulerFlags>('scheduler', [...serverFlags, ...flags], process.argv.slice(2))));
