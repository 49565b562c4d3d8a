/**
 * Read-only questions over the engine's state, shared by Then-steps and the
 * report pictures. Nothing here changes the engine.
 */
import type { entry_view, Kernel } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import type { MappingState } from './parameter_types';
import { patternParts } from './patterns';
import type { Buffer } from './world';

const PAGE = 4096;

/** Describe an entry in the words of {mapping_state}. */
export function mappingStateOf(e: entry_view): MappingState | string {
  if (e.kind === 'none') return 'not mapped';
  if (e.kind === 'zero page') return 'the zero page';
  if (e.kind === 'huge zero page') return 'the huge zero page';
  const pmd = e.level === 'pmd' ? 'PMD-mapped ' : '';
  if (e.kind === 'SOFTLEAF_DEVICE_PRIVATE_WRITE') return `${pmd}device-private, writable`;
  if (e.kind === 'SOFTLEAF_DEVICE_PRIVATE_READ') return `${pmd}device-private, read-only`;
  if (e.kind.startsWith('SOFTLEAF_MIGRATION'))
    return e.level === 'pmd' ? 'a PMD migration entry' : 'a migration entry';
  if (e.kind === 'SOFTLEAF_DEVICE_EXCLUSIVE') return 'device-exclusive';
  if (e.kind !== 'present') return e.kind;
  if (e.protnone) return 'inaccessible';
  const how = e.writable ? 'writable' : 'read-only';
  return e.level === 'pmd' ? `PMD-mapped ${how}` : `mapped ${how}`;
}

/** One row of the state picture: a run of pages of one buffer in one process with the same shape. */
export interface PageRow {
  process: string;
  buffer: string;
  first: number;
  last: number;
  entry: string;
  level: 'pte' | 'pmd';
  writable: boolean;
  pfn: number;
  order: number;
  refcount: number;
  mapcount: number;
  pincount: number;
  exclusive: boolean;
  /** Where the page lives: RAM, or the ZONE_DEVICE type. */
  memory: string;
  /** The contents word (of the run's first page); -1 for device-private memory, which the CPU cannot read. */
  data: number;
  /** How many small folios a run of order-0 pages spans (1 for a single page or a large folio). */
  folios: number;
}

function rowFor(kernel: Kernel, process: string, task: task_struct, buffer: Buffer, i: number): PageRow {
  const e = kernel.lookup(task, buffer.start + i * PAGE);
  const row: PageRow = {
    process,
    buffer: buffer.name,
    first: i,
    last: i,
    entry: mappingStateOf(e),
    level: e.level,
    writable: e.writable,
    pfn: e.page,
    order: 0,
    refcount: 0,
    mapcount: 0,
    pincount: 0,
    exclusive: false,
    memory: '-',
    data: 0,
    folios: 1,
  };
  if (e.kind === 'huge zero page') return { ...row, order: 9 };
  if (e.page < 0 || e.kind === 'zero page') return row;
  const folio = kernel.folio(e.page);
  const page = kernel.page(e.page);
  return {
    ...row,
    order: folio.order,
    refcount: folio.refcount,
    mapcount: page.mapcount,
    pincount: folio.pincount,
    exclusive: page.anon_exclusive,
    memory: MEMORY_SHORT[folio.memory] ?? folio.memory,
    data: folio.memory === 'MEMORY_DEVICE_PRIVATE' ? -1 : page.data,
  };
}

const MEMORY_SHORT: Record<string, string> = {
  'system RAM': 'RAM',
  MEMORY_DEVICE_PRIVATE: 'dev-private',
  MEMORY_DEVICE_COHERENT: 'dev-coherent',
};

/** The head pfn of the folio a row's page belongs to, for runs (large folios are naturally aligned). */
const folioOf = (r: PageRow): number => (r.order > 0 ? r.pfn - (r.pfn % (1 << r.order)) : r.pfn);

/**
 * The contents of pages `first` and `first + k` continue one another: the
 * same word, or the same selftest int pattern written for consecutive pages
 * (support/patterns.ts), as `ptr[i] = i` over a buffer writes.
 */
const sameData = (run: PageRow, b: PageRow): boolean => {
  if (run.data === b.data) return true;
  const a = patternParts(run.data);
  const c = patternParts(b.data);
  return a !== null && c !== null && a.formula === c.formula && c.page - a.page === b.first - run.first;
};

/**
 * Two rows belong to one run when they look the same and map either nothing,
 * the shared zero page, consecutive pages of one large folio, or small folios
 * alike in every column (the run then counts them in `folios`).
 */
const sameRun = (run: PageRow, b: PageRow): boolean =>
  run.entry === b.entry &&
  run.writable === b.writable &&
  run.refcount === b.refcount &&
  run.mapcount === b.mapcount &&
  run.pincount === b.pincount &&
  run.exclusive === b.exclusive &&
  run.memory === b.memory &&
  sameData(run, b) &&
  run.order === b.order &&
  (run.pfn < 0
    ? b.pfn < 0
    : run.entry === 'the zero page'
      ? b.pfn === run.pfn
      : run.order > 0
        ? b.pfn === run.pfn + (b.first - run.first) && folioOf(b) === folioOf(run)
        : b.pfn >= 0 && b.pfn !== run.pfn);

/** The pages of every buffer in every live process, runs of identical pages collapsed into one row. */
export function pageRows(
  kernel: Kernel,
  processes: Map<string, task_struct>,
  buffers: Iterable<Buffer>,
): PageRow[] {
  const rows: PageRow[] = [];
  const bufs = [...buffers];
  for (const [name, task] of processes) {
    if (!task.mm) continue;
    for (const buffer of bufs) {
      if (
        !kernel.vma_at(task, buffer.start) &&
        !kernel.vmas(task).some((v) => v.start < buffer.start + buffer.pages * PAGE && v.end > buffer.start)
      )
        continue;
      let run: PageRow | null = null;
      for (let i = 0; i < buffer.pages; i++) {
        const row = rowFor(kernel, name, task, buffer, i);
        if (run && sameRun(run, row)) {
          run.last = i;
          if (run.order === 0 && run.entry !== 'the zero page') run.folios++;
        } else {
          run = row;
          rows.push(row);
        }
      }
    }
  }
  return rows;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** A run's first pfn; `0x1234 +N` when it spans N more small folios. */
export const pfnText = (r: PageRow): string =>
  r.pfn < 0 ? '-' : r.folios > 1 ? `${hex(r.pfn)} +${r.folios - 1}` : hex(r.pfn);

/**
 * A run's contents: `(device)` for device-private memory, a selftest pattern
 * by its formula and first page (`i from page 2`), else the word.
 */
export const dataText = (r: PageRow): string => {
  if (r.data < 0) return '(device)';
  const p = patternParts(r.data);
  return p ? `${p.formula} from page ${p.page}` : hex(r.data);
};

/** The rows as a fixed-width text table, for diffs in the report. */
export function pageTable(rows: PageRow[]): string {
  const header = [
    'process',
    'buffer',
    'pages',
    'entry',
    'memory',
    'pfn',
    'order',
    'refcount',
    'mapcount',
    'pincount',
    'AE',
    'data',
  ];
  const body = rows.map((r) => [
    r.process,
    r.buffer,
    r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`,
    r.entry,
    r.memory,
    pfnText(r),
    r.pfn < 0 ? '-' : `${r.order}`,
    r.pfn < 0 ? '-' : `${r.refcount}`,
    r.pfn < 0 ? '-' : `${r.mapcount}`,
    r.pfn < 0 ? '-' : `${r.pincount}`,
    r.exclusive ? 'yes' : '-',
    r.pfn < 0 ? '-' : dataText(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
