/**
 * State pictures for the reports: the page tables and folios a scenario
 * touched, as a small SVG (one row per run of pages: process → buffer pages →
 * entry → folio with its counts) plus the same rows as text.
 */
import type { PageRow } from './queries';

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
    const folio = r.pfn < 0 ? '-' : `${hex(r.pfn)} ${r.memory}${r.order ? ` order ${r.order}` : ''}`;
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
