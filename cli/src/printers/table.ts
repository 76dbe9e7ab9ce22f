// Table layout and durations the way kubectl prints them: left-aligned columns separated by
// three spaces (Go's tabwriter with padding 3), upper-case headers, ages such as 45s, 3m20s,
// 5h, 2d3h (the duration rules themselves live in @k8ts/machinery).
import { humanDuration, timestampAge } from '@k8ts/machinery';

/** Lays out rows under headers; cells are padded to the widest cell of their column. */
export function formatTable(headers: string[], rows: string[][], opts: { noHeaders?: boolean } = {}): string {
  const all = opts.noHeaders ? rows : [headers, ...rows];
  if (all.length === 0) return '';
  const widths: number[] = [];
  for (const row of all) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] + 3)))
        .join('')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Kubernetes' duration.HumanDuration (45s, 3m20s, 5h, 2d3h), kept in @k8ts/machinery. */
export { humanDuration };

/** The age of a timestamp (RFC 3339), or `<unknown>`, as Kubernetes' printers compute ages. */
export function age(timestamp: string | undefined, now: number = Date.now()): string {
  return timestampAge(timestamp, now);
}
