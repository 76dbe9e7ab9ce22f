// The progress display of `k8ts up`: one line per component, `starting` -> `listening` ->
// `ready`, with its address and the seconds since `up` began. On a terminal the lines are
// redrawn in place; otherwise each change is printed as a new line.

export type Phase = 'waiting' | 'starting' | 'listening' | 'ready' | 'failed';

interface Row {
  name: string;
  phase: Phase;
  detail: string;
  at: number;
}

export class Progress {
  private readonly rows: Row[] = [];
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private readonly start = Date.now();

  constructor(
    private readonly write: (text: string) => void,
    private readonly live: boolean,
  ) {
    if (live) {
      this.timer = setInterval(() => this.redraw(), 250);
      this.timer.unref();
    }
  }

  add(name: string): void {
    if (!this.rows.some((r) => r.name === name)) this.rows.push({ name, phase: 'waiting', detail: '', at: Date.now() });
  }

  set(name: string, phase: Phase, detail = ''): void {
    this.add(name);
    const row = this.rows.find((r) => r.name === name) as Row;
    if (row.phase === phase && row.detail === detail) return;
    row.phase = phase;
    row.detail = detail;
    row.at = Date.now();
    if (this.live) this.redraw();
    else this.write(`${this.line(row)}\n`);
  }

  private line(r: Row): string {
    const secs = `${((r.at - this.start) / 1000).toFixed(1)}s`;
    const width = Math.max(18, ...this.rows.map((x) => x.name.length + 2));
    const mark = r.phase === 'ready' ? '✓' : r.phase === 'failed' ? '✗' : r.phase === 'waiting' ? ' ' : '…';
    const time = r.phase === 'waiting' ? '' : secs.padStart(7);
    return ` ${mark} ${r.name.padEnd(width)}${r.phase.padEnd(10)}${time}  ${r.detail}`.trimEnd();
  }

  private redraw(): void {
    if (!this.live) return;
    let out = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const r of this.rows) out += `\x1b[2K${this.line(r)}\n`;
    this.drawn = this.rows.length;
    this.write(out);
  }

  /** Stops redrawing (the lines stay as they are). */
  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.live) this.redraw();
  }
}
