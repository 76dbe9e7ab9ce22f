#!/usr/bin/env node
// The k8ts command. Everything lives in cli.ts; this file only runs it.
import { run } from './cli';
import { processIO } from './io';

run(process.argv.slice(2), processIO()).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
