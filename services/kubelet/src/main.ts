// k8ts-kubelet: flags -> start(config). Everything else lives in kubelet.ts and below.
import { parseConfig, runMain } from '@k8ts/kit';
import { flags, kubeletServerFlags, start } from './index';
import type { KubeletConfig } from './index';

runMain('kubelet', async () => start(parseConfig<KubeletConfig>('kubelet', [...kubeletServerFlags, ...flags], process.argv.slice(2))));
