// Container log files. A container's stdout and stderr are one file opened with O_APPEND and
// handed to the process, so the process keeps logging while no kubelet runs (a kubelet restart
// must not break a container's output). The runtime watches each file:
//
// - Timestamps: when the file has grown, the runtime appends "<end offset> <epoch ms>" to a
//   sidecar index (<file>.idx). A line's time is that of the first index entry at or past its
//   end, so it is accurate to the runtime's monitor interval. This is what serves
//   `logs --timestamps` and `--since-seconds`.
// - Rotation: past maxBytes the file is copied to <file>.1 (older ones shift to .2 … .N, the
//   oldest dropped) and truncated in place (copy-truncate: the process's descriptor stays
//   valid; bytes written between the copy and the truncation are lost). The index rotates
//   with it.
//
// Readers get lines oldest first across <file>.N … <file>.1, <file>, with tail, since and
// timestamps, and can follow the current file as it grows and rotates.
import * as fs from 'fs';

export interface LogRotation {
  /** Rotate the current file once it is larger than this. */
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  maxFiles: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 1024 * 1024, maxFiles: 4 };

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

/** The files of a log, oldest first: <file>.N … <file>.1, <file> (only those that exist). */
export function rotatedFiles(file: string, maxFiles = 64): string[] {
  const out: string[] = [];
  for (let i = maxFiles; i >= 1; i--) if (fs.existsSync(`${file}.${i}`)) out.push(`${file}.${i}`);
  if (fs.existsSync(file)) out.push(file);
  return out;
}

/** Watches one current log file: indexes growth with timestamps and rotates it by size. */
export class LogWatcher {
  private observed: number;

  constructor(
    readonly file: string,
    private readonly rotation: LogRotation = DEFAULT_LOG_ROTATION,
  ) {
    this.observed = Math.max(0, fileSize(file));
  }

  /** Records growth since the last tick, and rotates when the file got too large. */
  tick(now = Date.now()): void {
    const size = fileSize(this.file);
    if (size < 0) return;
    if (size > this.observed) {
      try {
        fs.appendFileSync(`${this.file}.idx`, `${size} ${now}\n`);
      } catch {
        /* the pod's directory was removed */
      }
      this.observed = size;
    } else if (size < this.observed) {
      this.observed = size;
    }
    if (size > this.rotation.maxBytes) this.rotate();
  }

  /** Copy-truncate rotation, keeping rotation.maxFiles older files. */
  rotate(): void {
    const { file } = this;
    const max = this.rotation.maxFiles;
    try {
      if (max <= 0) {
        fs.truncateSync(file, 0);
        fs.rmSync(`${file}.idx`, { force: true });
        this.observed = 0;
        return;
      }
      fs.rmSync(`${file}.${max}`, { force: true });
      fs.rmSync(`${file}.${max}.idx`, { force: true });
      for (let i = max - 1; i >= 1; i--) {
        if (fs.existsSync(`${file}.${i}`)) fs.renameSync(`${file}.${i}`, `${file}.${i + 1}`);
        if (fs.existsSync(`${file}.${i}.idx`)) fs.renameSync(`${file}.${i}.idx`, `${file}.${i + 1}.idx`);
      }
      fs.copyFileSync(file, `${file}.1`);
      fs.truncateSync(file, 0);
      if (fs.existsSync(`${file}.idx`)) fs.renameSync(`${file}.idx`, `${file}.1.idx`);
      this.observed = 0;
    } catch {
      /* the pod's directory was removed meanwhile */
    }
  }
}

/** One line of a log, without its newline, and when it was written (epoch ms). */
export interface LogLine {
  time: number;
  text: string;
}

function readIndex(file: string): Array<[number, number]> {
  let text: string;
  try {
    text = fs.readFileSync(`${file}.idx`, 'utf8');
  } catch {
    return [];
  }
  const out: Array<[number, number]> = [];
  for (const line of text.split('\n')) {
    const [offset, time] = line.split(' ').map(Number);
    if (Number.isFinite(offset) && Number.isFinite(time)) out.push([offset, time]);
  }
  return out;
}

/** Splits one file's bytes [from, to) into lines with their times. */
function fileLines(file: string, from = 0, to?: number): { lines: LogLine[]; end: number } {
  let buf: Buffer;
  let mtime = Date.now();
  try {
    const st = fs.statSync(file);
    mtime = st.mtimeMs;
    const end = Math.min(to ?? st.size, st.size);
    if (end <= from) return { lines: [], end: from };
    const fd = fs.openSync(file, 'r');
    try {
      buf = Buffer.alloc(end - from);
      fs.readSync(fd, buf, 0, buf.length, from);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return { lines: [], end: from };
  }
  const index = readIndex(file);
  const lines: LogLine[] = [];
  let start = 0;
  let k = 0;
  const timeAt = (endOffset: number): number => {
    while (k < index.length && index[k][0] < endOffset) k++;
    return k < index.length ? index[k][1] : mtime;
  };
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    lines.push({ text: buf.toString('utf8', start, nl), time: timeAt(from + nl + 1) });
    start = nl + 1;
  }
  if (start < buf.length) {
    // A last line without its newline (a container that exited mid-line, or is writing it).
    lines.push({ text: buf.toString('utf8', start), time: timeAt(from + buf.length) });
  }
  return { lines, end: from + buf.length };
}

/** Every line of a log's files (oldest first), with their times. */
export function readLogLines(files: string[]): LogLine[] {
  const out: LogLine[] = [];
  for (const f of files) for (const l of fileLines(f).lines) out.push(l);
  return out;
}

/** The options of a log read, as the pod logs API has them. */
export interface LogReadOptions {
  /** Only the last this-many lines. */
  tailLines?: number;
  /** Only lines written at or after this epoch ms (since_seconds converted by the caller). */
  sinceMs?: number;
  /** Prefix each line with its RFC 3339 time and a space. */
  timestamps?: boolean;
}

/** Selects and renders lines: since, then tail, then timestamps; each ends with "\n". */
export function renderLines(lines: LogLine[], opts: LogReadOptions = {}): string[] {
  let sel = lines;
  if (opts.sinceMs !== undefined) sel = sel.filter((l) => l.time >= opts.sinceMs!);
  if (opts.tailLines !== undefined) sel = opts.tailLines <= 0 ? [] : sel.slice(-opts.tailLines);
  return sel.map((l) => (opts.timestamps ? `${rfc3339Nano(l.time)} ${l.text}\n` : `${l.text}\n`));
}

/** Epoch ms as Kubernetes prints log times (RFC 3339 with nine fractional digits). */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** Reads a log at once: its rendered lines. */
export function readLog(files: string[], opts: LogReadOptions = {}): string[] {
  return renderLines(readLogLines(files), opts);
}

export interface FollowOptions extends LogReadOptions {
  /** How often the file is checked for growth; default 200 ms. */
  pollMs?: number;
  /** Ends the stream. */
  signal?: AbortSignal;
}

/**
 * Streams a log: what it holds now (with tail, since, timestamps), then every line written to
 * its current file, across rotations, until `running()` turns false and the file is drained
 * or the signal aborts.
 */
export async function* followLog(file: string, running: () => boolean, opts: FollowOptions = {}): AsyncGenerator<string> {
  const pollMs = opts.pollMs ?? 200;
  const initial = fileLines(file);
  const older = readLogLines(rotatedFiles(file).filter((f) => f !== file));
  // The last line may be incomplete: hold it back until its newline arrives.
  let pos = initial.end;
  const lines = [...older, ...initial.lines];
  let pending = '';
  let pendingTime = Date.now();
  if (initial.lines.length > 0 && !endsWithNewline(file, initial.end)) {
    const last = lines.pop()!;
    pending = last.text;
    pendingTime = last.time;
  }
  for (const l of renderLines(lines, opts)) yield l;
  const emit = (chunk: LogLine[], final: boolean): string[] => {
    const out: LogLine[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const l = chunk[i];
      const complete = i < chunk.length - 1 || final;
      const text = pending + l.text;
      if (complete) {
        out.push({ text, time: pending ? pendingTime : l.time });
        pending = '';
      } else {
        if (!pending) pendingTime = l.time;
        pending = text;
      }
    }
    return renderLines(out, { timestamps: opts.timestamps, sinceMs: opts.sinceMs });
  };
  // A rotation shows as a new <file>.1 (copy-truncate keeps the current file's inode).
  let rotated = fileIdentity(`${file}.1`);
  for (;;) {
    if (opts.signal?.aborted) return;
    const alive = running();
    const now = fileIdentity(`${file}.1`);
    let size = fileSize(file);
    let grew = false;
    if (now !== rotated || (size >= 0 && size < pos)) {
      // Rotated: the bytes past pos went to <file>.1.
      rotated = now;
      const rest = fileLines(`${file}.1`, pos);
      if (rest.lines.length > 0) for (const l of emit(rest.lines, endsWithNewline(`${file}.1`, rest.end))) yield l;
      pos = 0;
      grew = true;
      size = fileSize(file);
    }
    if (size > pos) {
      const next = fileLines(file, pos, size);
      const complete = endsWithNewline(file, next.end);
      for (const l of emit(next.lines, complete)) yield l;
      pos = next.end;
      grew = true;
    }
    if (!alive && !grew) {
      if (pending) for (const l of renderLines([{ text: pending, time: pendingTime }], opts)) yield l;
      return;
    }
    await sleep(pollMs, opts.signal);
  }
}

function fileIdentity(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return '';
  }
}

function endsWithNewline(file: string, end: number): boolean {
  if (end <= 0) return true;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, end - 1);
      return b[0] === 10;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return true;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
