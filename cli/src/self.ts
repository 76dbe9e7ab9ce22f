// How to run this k8ts from a shell, for the commands the CLI suggests ("Try: k8ts get
// nodes", "start one with k8ts up"). Every suggestion must work when pasted as printed: a
// checkout has only cli/bin/k8ts, which is not on PATH, so a bare `k8ts` would be "command
// not found" (or, worse, another checkout's k8ts). The rule: `k8ts` when the k8ts found on
// PATH is this very CLI, else the absolute path of this CLI's cli/bin/k8ts.
import * as fs from 'fs';
import * as path from 'path';

/** This CLI's folder: cli/ (this file is cli/dist/self.js, or cli/src/self.ts in tests). */
export const CLI_ROOT = path.resolve(__dirname, '..');

/** The files that are this CLI when found on PATH: the checkout's launcher and npm's bin target. */
export function selfEntryPoints(root = CLI_ROOT): string[] {
  return [path.join(root, 'bin', 'k8ts'), path.join(root, 'dist', 'main.js')];
}

function realpath(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    return undefined;
  }
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `k8ts` on a PATH value, as the shell would find it. */
export function k8tsOnPath(pathValue: string | undefined): string | undefined {
  for (const dir of (pathValue ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(path.resolve(dir), 'k8ts');
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/** A word the shell reads back unchanged (single-quoted when it has to be). */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** How to type this CLI in a shell with this PATH: `k8ts`, or the absolute path of cli/bin/k8ts. */
export function k8tsCommandFor(pathValue: string | undefined, root = CLI_ROOT): string {
  const self = new Set(selfEntryPoints(root).map(realpath).filter((p): p is string => p !== undefined));
  const found = k8tsOnPath(pathValue);
  const foundReal = found ? realpath(found) : undefined;
  if (foundReal && self.has(foundReal)) return 'k8ts';
  const [launcher, main] = selfEntryPoints(root);
  return fs.existsSync(launcher) ? shellWord(launcher) : `node ${shellWord(main)}`;
}

const cache = new Map<string, string>();

/** k8tsCommandFor the process's PATH (or env's), computed once per PATH. */
export function k8tsCommand(env: NodeJS.ProcessEnv = process.env): string {
  const key = env.PATH ?? '';
  let cmd = cache.get(key);
  if (cmd === undefined) {
    cmd = k8tsCommandFor(env.PATH);
    cache.set(key, cmd);
  }
  return cmd;
}

/** The shell line that puts this CLI on PATH (shown when `k8ts` alone would not be found). */
export function pathHint(root = CLI_ROOT): string {
  return `export PATH=${shellWord(path.join(root, 'bin'))}:"$PATH"`;
}
