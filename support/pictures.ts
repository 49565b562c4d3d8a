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
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="${FONT}" font-size="12">`,
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
  /**
   * Each row's cells, unpadded (one per PageRow, in order): what a row is,
   * whatever the other rows make the table's column widths. A new, longer
   * row pads every line of the table anew, which drew every row red.
   */
  readonly keys: readonly string[];
  readonly keySet: Set<string>;
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

function entryLabel(r: PageRow, names: readonly string[] = [r.buffer]): string {
  const range = r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`;
  // Buffers that view the same addresses share one entry, named by each.
  const pages = names.length > 1 ? names.map((n) => `${n}[${range}]`).join(' = ') : `${r.buffer}[${range}]`;
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
  broken: Broken | null = null,
): string {
  const shown = rows.slice(0, maxEntries);
  let drawnBroken = false;
  const boxes = new Map<string, string[]>();
  const shared: string[] = [];
  const seen = new Set<string>();
  const once = (id: string): boolean => !seen.has(id) && seen.add(id) !== undefined;
  const lastEntry = new Map<string, number>();
  const vmaLabels = new Map<string, string>();
  const vmasOf = new Map<string, ReturnType<Kernel['vmas']>>();
  /* Rows of buffers that view the same addresses of one process are drawn once, with every buffer's name. */
  const firstAt = new Map<string, number>();
  const names = new Map<number, string[]>();
  const vmaNames = new Map<string, string[]>();
  shown.forEach((r, i) => {
    const buffer = buffers.find((b) => b.name === r.buffer);
    if (!buffer) return;
    const key = `${r.process}:${buffer.start + r.first * PAGE}:${r.last - r.first}`;
    const first = firstAt.get(key);
    if (first === undefined) {
      firstAt.set(key, i);
      names.set(i, [r.buffer]);
    } else names.get(first)?.push(r.buffer);
  });
  shown.forEach((r, i) => {
    const task = processes.get(r.process);
    const buffer = buffers.find((b) => b.name === r.buffer);
    if (!task || !buffer || !names.has(i)) return;
    const box = boxes.get(r.process) ?? [];
    boxes.set(r.process, box);
    const addr = buffer.start + r.first * PAGE;
    const vmas = vmasOf.get(r.process) ?? kernel.vmas(task);
    vmasOf.set(r.process, vmas);
    const vma = vmas.find((v) => v.start <= addr && addr < v.end);
    const vmaId = q(vma ? `v_${r.process}_${vma.start.toString(16)}` : `v_${r.process}_${r.buffer}_none`);
    const inVma = vmaNames.get(vmaId) ?? [];
    for (const n of names.get(i) ?? []) if (!inVma.includes(n)) inVma.push(n);
    vmaNames.set(vmaId, inVma);
    if (once(vmaId)) box.push(`${vmaId} [label=${q(`@vma:${vmaId}`)}];`);
    const red = changed(r) ? ' color="#d62728" penwidth=2' : '';
    box.push(`e${i} [label=${q(entryLabel(r, names.get(i)))} fillcolor="${entryColour(r.entry)}"${red}];`);
    vmaLabels.set(vmaId, vma ? vmaLabel(vma, inVma.join(', ')) : `buffer ${inVma.join(', ')}\nno VMA`);
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
      const hit =
        broken !== null && broken.pfn >= head && broken.pfn < head + (1 << (r.order > 0 ? r.order : 0));
      const red = hit
        ? ' color="#b30000" penwidth=3 peripheries=2'
        : changedFolio(head, folio.label)
          ? ' color="#d62728" penwidth=2'
          : '';
      if (hit && broken) {
        shared.push(
          `broken [label=${q(`broken: ${broken.rule}\nat pfn ${hex(broken.pfn)}`)} shape=note fillcolor="#ffd6d6" color="#b30000" fontcolor="#b30000"];`,
          `broken -> f${head} [color="#b30000" style=dashed];`,
        );
        drawnBroken = true;
      }
      shared.push(`f${head} [label=${q(folio.label)} fillcolor="${device ? '#e8e0f5' : '#fff7dc'}"${red}];`);
      if (device) {
        // A DOT id with a space or a hyphen in it must be quoted ("device-private memory"): unquoted, it garbled the graph.
        const m = q(`m_${folio.memory}_${folio.device}`);
        if (once(m))
          shared.push(
            `${m} [label=${q(`pagemap ${folio.memory}${folio.device ? `\n${folio.device}` : ''}`)} shape=cylinder fillcolor="#d9d2e9"];`,
          );
        shared.push(`f${head} -> ${m};`);
      }
    }
    shared.push(`e${i} -> f${head};`);
  });
  /*
   * Courier: Graphviz sizes every label from its own table of font widths,
   * which for Courier is exact (0.6 em a character); the SVG asks the browser
   * for a monospace font of the same width (DejaVu Sans Mono, which
   * ensure-browser installs with Chromium; Liberation Mono), so labels fit
   * their boxes. With Helvetica, Graphviz's estimate and Debian's fallback
   * sans font disagreed, and labels ran out of their boxes.
   */
  const out = [
    'digraph state {',
    'graph [rankdir=LR ordering=out fontname="Courier" fontsize=11 nodesep=0.08 ranksep=0.25];',
    'node [shape=box style=filled fillcolor="#ffffff" fontname="Courier" fontsize=9 height=0.2 margin="0.06,0.03"];',
    'edge [arrowsize=0.5 color="#777777"];',
  ];
  if (broken && !drawnBroken)
    shared.push(
      `broken [label=${q(`broken: ${broken.rule}${broken.pfn >= 0 ? `\nat pfn ${hex(broken.pfn)} (not drawn)` : ''}`)} shape=note fillcolor="#ffd6d6" color="#b30000" fontcolor="#b30000"];`,
    );
  /* A VMA's label names every buffer in it, known only once all its entries are seen. */
  for (const box of boxes.values())
    for (const [k, line] of box.entries()) {
      const m = /^(".*?") \[label="@vma:.*"\];$/.exec(line);
      if (m) box[k] = `${m[1]} [label=${q(vmaLabels.get(m[1]) ?? '')}];`;
    }
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
      / xml:space="preserve"| font-family="Courier,monospace"| text-anchor="middle"| font-size="9\.00"/g,
      '',
    )
    .replace(/(\d+\.\d)\d+/g, '$1')
    .replace(/<svg /, `<svg font-family="${FONT}" font-size="9" text-anchor="middle" `)
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

/** The monospace fonts the pictures ask for, all 0.6 em a character as Graphviz's Courier table says. */
export const FONT = 'DejaVu Sans Mono,Liberation Mono,Courier New,monospace';
/** The width of a character of the pictures' font, in em (Graphviz's Courier; DejaVu Sans Mono is 0.602). */
export const CHAR_EM = 0.602;

/** What the pictures' abbreviations mean, on every picture. */
export const LEGEND =
  'key: W=1 writable entry, W=0 read-only · AE PageAnonExclusive (only this mm maps the page) · ref refcount · map mapcount · pin pincount · X[0-3] pages of buffer X';

/**
 * The drawing with the step's title and the key in a band above it, widened
 * if they are longer (measured in the monospace font's 0.602 em a character),
 * and, for a picture that marks changes, what red means.
 */
function withTitle(svg: string, title: string, changedBy: string | null): string {
  const m = /width="([\d.]+)pt"\s+height="([\d.]+)pt"\s+viewBox="[^"]*"/.exec(svg);
  if (!m) return svg;
  const lines: [string, number, string][] = [
    [title, 11, '#000000'],
    [LEGEND, 9, '#444444'],
    ...(changedBy ? ([[`red: changed by "${changedBy}"`, 9, '#d62728']] as [string, number, string][]) : []),
  ];
  const band = 8 + lines.reduce((n, [, size]) => n + size + 4, 0);
  const w = Math.max(Number(m[1]), ...lines.map(([t, size]) => Math.ceil(t.length * size * CHAR_EM) + 12));
  const h = Number(m[2]) + band;
  const head = `width="${w}pt" height="${h}pt" viewBox="0 -${band} ${w} ${h}"`;
  let y = -band + 2;
  const texts = lines.map(([t, size, colour]) => {
    y += size + 4;
    return `<text x="6" y="${y - 3}" font-size="${size}" fill="${colour}" text-anchor="start">${esc(t)}</text>`;
  });
  const text = `<rect x="0" y="-${band}" width="${w}" height="${band}" fill="white"/>${texts.join('')}`;
  return svg.replace(m[0], head).replace(/(<svg[^>]*>)/, `$1${text}`);
}

/** A debug_vm rule the step broke (or claimed broken), and the pfn it names (-1 if none). */
export interface Broken {
  readonly rule: string;
  readonly pfn: number;
}

/** The rule and pfn of a KernelInvariantViolation's message ("debug_vm: invariant "<rule>" violated at pfn <n>: …"). */
export function brokenOf(message: string | undefined): Broken | null {
  const m = /invariant "([^"]+)" violated(?: at pfn (0x[0-9a-f]+|\d+))?/.exec(message ?? '');
  return m ? { rule: m[1], pfn: m[2] === undefined ? -1 : Number(m[2]) } : null;
}

/** A row's identity and state, unpadded: the cells of its line in the text table. */
function rowKey(r: PageRow): string {
  return [
    r.process,
    r.buffer,
    r.first,
    r.last,
    r.entry,
    r.memory,
    pfnText(r),
    r.order,
    r.refcount,
    r.mapcount,
    r.pincount,
    r.exclusive,
    r.pfn < 0 ? '-' : dataText(r),
  ].join('|');
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
  const keys = rows.map(rowKey);
  return { table, rows: lines, lines: new Set(lines), folios, keys, keySet: new Set(keys) };
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
  broken: Broken | null = null,
): { svg: string; text: string } {
  const previous = before?.state ?? null;
  const rowKeyOf = new Map(rows.map((r, i) => [r, now.keys[i]]));
  const changed = (r: PageRow) => previous !== null && !previous.keySet.has(rowKeyOf.get(r) ?? '');
  const changedFolio = (pfn: number, label: string) =>
    previous !== null && previous.folios.get(pfn) !== label;

  let text = now.table;
  if (before && previous) {
    const gone = previous.rows.filter((_l, i) => !now.keySet.has(previous.keys[i]));
    const added = now.rows.filter((_l, i) => !previous.keySet.has(now.keys[i]));
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
        render(viz, stateDot(kernel, processes, buffers, rows, changed, changedFolio, max, broken)),
        title,
        before?.step ?? null,
      );
      if (Buffer.byteLength(svg) < MAX_SVG_BYTES || max === 1) break;
    }
  }
  if (!svg || Buffer.byteLength(svg) >= MAX_SVG_BYTES) svg = pageSvg(title, rows);
  if (broken) text += `\n\nbroken: ${broken.rule}${broken.pfn >= 0 ? ` at pfn ${hex(broken.pfn)}` : ''}`;
  return { svg, text };
}
