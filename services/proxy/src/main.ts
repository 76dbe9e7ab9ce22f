#!/usr/bin/env node
// The proxy binary: flags (config.ts) in, typed config, start(config), signals handled by the kit.
import { parseConfig, runMain, serverFlags } from '@k8ts/kit';
import { type ProxyConfig, flags } from './config';
import { start } from './index';

runMain('proxy', async () => start(parseConfig<ProxyConfig>('proxy', [...serverFlags, ...flags], process.argv.slice(2))));
