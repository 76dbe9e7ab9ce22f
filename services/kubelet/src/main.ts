// k8ts-kubelet: flags (config.ts) -> typed config -> start(config). Everything else lives in kubelet.ts and below.
import { parseConfig, runMain } from '@k8ts/kit';
import { type KubeletConfig, flags, kubeletServerFlags } from './config';
import { start } from './kubelet';

runMain('kubelet', async () => start(parseConfig<KubeletConfig>('kubelet', [...kubeletServerFlags, ...flags], process.argv.slice(2))));
