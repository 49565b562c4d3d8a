/**
 * State pictures for the reports: the page tables and folios a scenario
 * touched. `statePicture` draws process → VMA → PTE/PMD entries (kind, write
 * bit, AE) → folios (refcount, mapcount, pincount, contents) → pagemap or
 * device as a Graphviz graph, rendered to SVG by Graphviz compiled to
 * WebAssembly (@viz-js/viz, no native binary). Entries and folios that the
 * scenario's latest When-step changed are drawn red. Each picture is kept
 * under MAX_SVG_BYTES by drawing fewer rows. Beside it goes the same state as
 * a text table, with the rows that When-step changed, for diffs.
 * `pageSvg` is the plain table-as-SVG drawing, used if Graphviz cannot load.
 */
import type { Viz } from '@viz-js/viz';
import type { Kernel } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { dataText, type PageRow, pageTable, pfnText } from './queries';
import type { Buffer as MmBuffer } from './world';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const hex = (n: number): string => `0x${n.toString(16)}`;
const MAX_ROWS = 40;

function entryColour(entry: string): string {
  if (entry.startsWith('PMD-mapped')) return '#c6dbef';
  if (entry.includes('writable')) return '#c7e9c0';
  if (entry.includes('read-only')) return '#fdd0a2';
  if (entry.includes('zero')) return '#e5e5e5';
  if (entry === 'not mapped') return '#ffffff';
  return '#dadaeb';
}

/** Render rows as an SVG: columns process | pages | entry | folio (pfn, order) | refcount / mapcount / pins | AE. */
export function pageSvg(title: string, rows: PageRow[]): string {
  const shown = rows.slice(0, MAX_ROWS);
  const cols = [80, 70, 190, 200, 190, 40];
  const x: number[] = [];
  for (let i = 0; i < cols.length; i++) x.push(i === 0 ? 8 : x[i - 1] + cols[i - 1]);
  const width = x[x.length - 1] + cols[cols.length - 1] + 8;
  const rowH = 20;
  const height = 46 + (shown.length + (rows.length > MAX_ROWS ? 1 : 0)) * rowH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="12">`,
    `<text x="8" y="16" font-weight="bold">${esc(title)}</text>`,
  ];
  const head = ['process', 'pages', 'entry', 'folio', 'refcount/mapcount/pins', 'AE'];
  head.forEach((h, i) => {
    out.push(`<text x="${x[i]}" y="36" fill="#555">${h}</text>`);
  });
  shown.forEach((r, n) => {
    const y = 42 + n * rowH;
    const pages = `${r.buffer}[${r.first === r.last ? r.first : `${r.first}-${r.last}`}]`;
    const folio = r.pfn < 0 ? '-' : `${pfnText(r)} ${r.memory}${r.order ? ` order ${r.order}` : ''}`;
    const counts = r.pfn < 0 ? '-' : `${r.refcount} / ${r.mapcount} / ${r.pincount}`;
    out.push(
      `<rect x="${x[2] - 4}" y="${y}" width="${cols[2] - 4}" height="${rowH - 3}" fill="${entryColour(r.entry)}" stroke="#999"/>`,
    );
    const cells = [r.process, pages, r.entry, folio, counts, r.exclusive ? 'AE' : ''];
    cells.forEach((c, i) => {
      out.push(`<text x="${x[i]}" y="${y + 13}">${esc(c)}</text>`);
    });
  });
  if (rows.length > MAX_ROWS)
    out.push(
      `<text x="8" y="${height - 6}" fill="#555">… ${rows.length - MAX_ROWS} more rows in the text table</text>`,
    );
  out.push('</svg>');
  return out.join('');
}

/** Pictures larger than this are drawn again with fewer rows. */
export const MAX_SVG_BYTES = 20_000;
const MAX_ENTRIES = 32;
const MAX_DIFF = 40;
const PAGE = 4096;

let viz: Viz | null = null;
let vizError: string | null = null;

/** Load Graphviz once per process (a BeforeAll hook); without it the pictures fall back to pageSvg. */
export async function loadViz(): Promise<void> {
  if (viz || vizError) return;
  try {
    viz = await (await import('@viz-js/viz')).instance();
  } catch (e) {
    vizError = (e as Error).message;
  }
}

/** The state a picture shows, kept per scenario to mark what the next step changed. */
export interface Snapshot {
  /** The text table, and its rows (one per PageRow, in order). */
  readonly table: string;
  readonly rows: readonly string[];
  readonly lines: Set<string>;
  readonly folios: Map<number, string>;
}

const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function vmaLabel(
  v: { start: number; end: number; flags: number; file: string | null },
  buffer: string,
): string {
  const VM_READ = 0x1;
  const VM_WRITE = 0x2;
  const VM_SHARED = 0x8;
  const prot = `${v.flags & VM_READ ? 'r' : '-'}${v.flags & VM_WRITE ? 'w' : '-'}`;
  const kind = `${v.flags & VM_SHARED ? 'shared' : 'private'} ${v.file ? `file ${v.file}` : 'anon'}`;
  return `VMA of buffer ${buffer}\n${hex(v.start)}-${hex(v.end)}\n${prot} ${kind}`;
}

function entryLabel(r: PageRow): string {
  const pages = r.first === r.last ? `page ${r.first}` : `pages ${r.first}-${r.last}`;
  const level = r.level === 'pmd' ? 'PMD' : 'PTE';
  const bits = r.pfn < 0 ? '' : `\nW=${r.writable ? 1 : 0}${r.exclusive ? ' AE' : ''}`;
  return `${pages}: ${level}\n${r.entry}${bits}`;
}

function folioLabel(
  r: PageRow,
  head: number,
  kernel: Kernel,
): { label: string; memory: string; device: string } {
  if (r.entry === 'the zero page' || r.entry === 'the huge zero page')
    return { label: r.entry, memory: 'RAM', device: '' };
  const f = kernel.folio(r.pfn);
  const owner = f.owner as { id?: number } | null;
  const device = owner && typeof owner.id === 'number' ? `device ${owner.id}` : '';
  const data = dataText(r);
  const more = r.folios > 1 ? ` and ${r.folios - 1} more like it` : '';
  return {
    label: `folio ${hex(head)}${f.order ? ` order ${f.order}` : ''}${more}\nref ${f.refcount} map ${f.mapcount} pin ${f.pincount}\n${r.memory}, holds ${data}`,
    memory: f.memory,
    device,
  };
}

/**
 * The Graphviz graph of the state: each process a box holding its VMAs and
 * their page-table entries in page order, each entry pointing at its folio,
 * and each device folio at its pagemap. Folios and pagemaps sit outside the
 * boxes, so that a page two processes share has two arrows into it.
 */
export function stateDot(
  kernel: Kernel,
  processes: Map<string, task_struct>,
  buffers: MmBuffer[],
  rows: PageRow[],
  changed: (r: PageRow) => boolean,
  changedFolio: (pfn: number, label: string) => boolean,
  maxEntries = MAX_ENTRIES,
): string {
  const shown = rows.slice(0, maxEntries);
  const boxes = new Map<string, string[]>();
  const shared: string[] = [];
  const seen = new Set<string>();
  const once = (id: string): boolean => !seen.has(id) && seen.add(id) !== undefined;
  const lastEntry = new Map<string, number>();
  const vmasOf = new Map<string, ReturnType<Kernel['vmas']>>();
  shown.forEach((r, i) => {
    const task = processes.get(r.process);
    const buffer = buffers.find((b) => b.name === r.buffer);
    if (!task || !buffer) return;
    const box = boxes.get(r.process) ?? [];
    boxes.set(r.process, box);
    const addr = buffer.start + r.first * PAGE;
    const vmas = vmasOf.get(r.process) ?? kernel.vmas(task);
    vmasOf.set(r.process, vmas);
    const vma = vmas.find((v) => v.start <= addr && addr < v.end);
    const vmaId = vma ? `v_${r.process}_${vma.start.toString(16)}` : `v_${r.process}_${r.buffer}_none`;
    if (once(vmaId))
      box.push(`${vmaId} [label=${q(vma ? vmaLabel(vma, r.buffer) : `buffer ${r.buffer}\nno VMA`)}];`);
    const red = changed(r) ? ' color="#d62728" penwidth=2' : '';
    box.push(`e${i} [label=${q(entryLabel(r))} fillcolor="${entryColour(r.entry)}"${red}];`);
    // Keep a VMA's entries in page order, top to bottom.
    const previous = lastEntry.get(vmaId);
    if (previous !== undefined) box.push(`{rank=same; e${previous} -> e${i} [style=invis]}`);
    lastEntry.set(vmaId, i);
    shared.push(`${vmaId} -> e${i};`);
    if (r.pfn < 0) return;
    const head = r.order > 0 ? r.pfn - (r.pfn % (1 << r.order)) : r.pfn;
    const folio = folioLabel(r, head, kernel);
    const device = folio.memory !== 'system RAM' && folio.memory !== 'RAM';
    if (once(`f${head}`)) {
      const red = changedFolio(head, folio.label) ? ' color="#d62728" penwidth=2' : '';
      shared.push(`f${head} [label=${q(folio.label)} fillcolor="${device ? '#e8e0f5' : '#fff7dc'}"${red}];`);
      if (device) {
        const m = `m_${folio.memory}_${folio.device.replace(/\W/g, '')}`;
        if (once(m))
          shared.push(
            `${m} [label=${q(`pagemap ${folio.memory}${folio.device ? `\n${folio.device}` : ''}`)} shape=cylinder fillcolor="#d9d2e9"];`,
          );
        shared.push(`f${head} -> ${m};`);
      }
    }
    shared.push(`e${i} -> f${head};`);
  });
  const out = [
    'digraph state {',
    'graph [rankdir=LR ordering=out fontname="Helvetica" fontsize=11 nodesep=0.08 ranksep=0.25];',
    'node [shape=box style=filled fillcolor="#ffffff" fontname="Helvetica" fontsize=9 height=0.2 margin="0.05,0.02"];',
    'edge [arrowsize=0.5 color="#777777"];',
  ];
  for (const [name, box] of boxes)
    out.push(
      `subgraph cluster_${name} { label=${q(`process ${name} (pid ${processes.get(name)?.pid})`)} style=rounded color="#999999" fontsize=10;`,
      ...box,
      '}',
    );
  out.push(...shared);
  if (rows.length > shown.length)
    out.push(
      `more [label=${q(`… ${rows.length - shown.length} more rows in the text table`)} shape=plaintext];`,
    );
  out.push('}');
  return out.join('\n');
}

/**
 * Graphviz's SVG made small: no comments, tooltips, ids or indentation, one
 * decimal, and the font and anchor that nearly every text shares set once on
 * the root element (SVG presentation attributes inherit) instead of on each.
 */
function compact(svg: string): string {
  return svg
    .replace(/<\?xml[^>]*>\s*/, '')
    .replace(/<!DOCTYPE[^>]*>\s*/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<title>[^<]*<\/title>/g, '')
    .replace(/ (?:id|class)="[^"]*"/g, '')
    .replace(
      / xml:space="preserve"| font-family="Helvetica,sans-Serif"| text-anchor="middle"| font-size="9\.00"/g,
      '',
    )
    .replace(/(\d+\.\d)\d+/g, '$1')
    .replace(/<svg /, '<svg font-family="Helvetica,sans-serif" font-size="9" text-anchor="middle" ')
    .replace(/>\s+</g, '><')
    .trim();
}

/**
 * Drawings by graph. Most pictures repeat an earlier one (Background steps,
 * Then-steps after a Then that changed nothing): 505 of 718 in one run of the
 * suite. The step's title is added after drawing, so that it does not make
 * equal graphs differ.
 */
const drawings = new Map<string, string>();
function render(v: Viz, dot: string): string {
  let svg = drawings.get(dot);
  if (svg === undefined) {
    svg = compact(v.renderString(dot, { format: 'svg' }));
    if (drawings.size >= 5000) drawings.clear();
    drawings.set(dot, svg);
  }
  return svg;
}

/** The drawing with the step's title in a band above it, widened if the title is longer. */
function withTitle(svg: string, title: string): string {
  const m = /width="([\d.]+)pt"\s+height="([\d.]+)pt"\s+viewBox="[^"]*"/.exec(svg);
  if (!m) return svg;
  const band = 20;
  const w = Math.max(Number(m[1]), Math.ceil(title.length * 6.2) + 12);
  const h = Number(m[2]) + band;
  const head = `width="${w}pt" height="${h}pt" viewBox="0 -${band} ${w} ${h}"`;
  const text = `<rect x="0" y="-${band}" width="${w}" height="${band}" fill="white"/><text x="6" y="-6" font-size="11" text-anchor="start">${esc(title)}</text>`;
  return svg.replace(m[0], head).replace(/(<svg[^>]*>)/, `$1${text}`);
}

/** The state a picture would show, without drawing it: taken after every step, so the next picture can mark what changed. */
export function snapshotOf(kernel: Kernel, rows: PageRow[]): Snapshot {
  const folios = new Map<number, string>();
  for (const r of rows) {
    if (r.pfn < 0) continue;
    const head = r.order > 0 ? r.pfn - (r.pfn % (1 << r.order)) : r.pfn;
    if (!folios.has(head)) folios.set(head, folioLabel(r, head, kernel).label);
  }
  const table = pageTable(rows);
  const lines = table.split('\n').slice(2);
  return { table, rows: lines, lines: new Set(lines), folios };
}

/**
 * The picture and text table for the state after a step (`now`, its
 * snapshot). `before` is the state before the scenario's latest When-step
 * (null if none ran yet); what that step changed is drawn red and listed
 * below the table.
 */
export function statePicture(
  title: string,
  kernel: Kernel,
  processes: Map<string, task_struct>,
  buffers: MmBuffer[],
  rows: PageRow[],
  now: Snapshot,
  before: { state: Snapshot; step: string } | null,
): { svg: string; text: string } {
  const previous = before?.state ?? null;
  const rowLine = new Map(rows.map((r, i) => [r, now.rows[i]]));
  const changed = (r: PageRow) => previous !== null && !previous.lines.has(rowLine.get(r) ?? '');
  const changedFolio = (pfn: number, label: string) =>
    previous !== null && previous.folios.get(pfn) !== label;

  let text = now.table;
  if (before && previous) {
    const gone = previous.rows.filter((l) => !now.lines.has(l));
    const added = now.rows.filter((l) => !previous.lines.has(l));
    // The table above has every row; the list of changes stops at MAX_DIFF rows each way.
    const list = (rows: string[], mark: string) => [
      ...rows.slice(0, MAX_DIFF).map((l) => `${mark} ${l}`),
      ...(rows.length > MAX_DIFF ? [`${mark} … and ${rows.length - MAX_DIFF} more rows`] : []),
    ];
    text +=
      gone.length + added.length
        ? `\n\nchanged by "${before.step}" (red in the picture):\n${[...list(gone, '-'), ...list(added, '+')].join('\n')}`
        : `\n\nno change by "${before.step}"`;
  }

  let svg = '';
  if (viz) {
    for (let max = MAX_ENTRIES; max >= 1; max = Math.floor(max / 2)) {
      svg = withTitle(
        render(viz, stateDot(kernel, processes, buffers, rows, changed, changedFolio, max)),
        title,
      );
      if (Buffer.byteLength(svg) < MAX_SVG_BYTES || max === 1) break;
    }
  }
  if (!svg || Buffer.byteLength(svg) >= MAX_SVG_BYTES) svg = pageSvg(title, rows);
  return { svg, text };
}
