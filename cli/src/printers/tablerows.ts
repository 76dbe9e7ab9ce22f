// Rendering a meta.k8s.io/v1 Table into header and rows the way kubectl's table printer does
// (cli-runtime printers.decorateTable and printTable): NAMESPACE first with -A, the name column
// (format "name") prefixed with the kind ("deployment.apps/web") when several kinds are shown,
// LABELS last with --show-labels (from the row's object metadata), columns of priority above 0
// only with -o wide, headers in upper case. Cells print as they come: a string up to its first
// line break (then "..."), other values as text, nothing for null. A "date" cell (CREATED AT)
// is printed as the server wrote it, as kubectl does.
import type { Table, TableRow } from '@k8ts/machinery';
import { formatLabels } from '@k8ts/machinery';

export interface RenderOptions {
  /** Show the columns of priority above 0 (-o wide). */
  wide?: boolean;
  /** Prefix the NAMESPACE column. */
  withNamespace?: boolean;
  /** Prefix names with this kind ("pod", "deployment.apps"). */
  kindPrefix?: string;
  /** Append the LABELS column. */
  showLabels?: boolean;
}

/** A cell as kubectl prints it. */
export function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') {
    const lineBreak = cell.search(/[\f\n\r]/);
    return lineBreak >= 0 ? `${cell.slice(0, lineBreak)}...` : cell;
  }
  if (typeof cell === 'object') return JSON.stringify(cell);
  return String(cell);
}

function rowMetadata(row: TableRow): Record<string, unknown> {
  const metadata = row.object?.metadata;
  return typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {};
}

function rowLabels(row: TableRow): Record<string, string> {
  const labels = rowMetadata(row).labels;
  const out: Record<string, string> = {};
  if (typeof labels === 'object' && labels !== null) {
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** The header and the rows of a Table, decorated and filtered as kubectl does. */
export function renderTable(table: Pick<Table, 'columnDefinitions' | 'rows'>, opts: RenderOptions = {}): { headers: string[]; rows: string[][] } {
  const columns = table.columnDefinitions;
  const visible = columns.map((c) => opts.wide === true || c.priority === 0);
  const nameColumn = opts.kindPrefix ? columns.findIndex((c) => c.format === 'name' && c.type === 'string') : -1;
  const headers = columns.filter((_, i) => visible[i]).map((c) => c.name.toUpperCase());
  if (opts.withNamespace) headers.unshift('NAMESPACE');
  if (opts.showLabels) headers.push('LABELS');
  const rows = table.rows.map((row) => {
    const cells = columns.flatMap((_, i) => {
      if (!visible[i]) return [];
      const text = cellText(row.cells[i]);
      return [i === nameColumn ? `${opts.kindPrefix}/${text}` : text];
    });
    if (opts.withNamespace) {
      const namespace = rowMetadata(row).namespace;
      cells.unshift(typeof namespace === 'string' ? namespace : '');
    }
    if (opts.showLabels) cells.push(formatLabels(rowLabels(row)));
    return cells;
  });
  return { headers, rows };
}
