/*
 * Mirrors mm/debug.c: dump_page, as text the reports can show.
 * Kernel: linux-mm tree, late 2025.
 */

import { HPAGE_PMD_ORDER } from '../include/linux/mm_types';
import { PG_anon, PG_head, PG_tail, page_flag_names } from '../include/linux/page-flags';
import type { Machine } from '../machine';

const hex = (n: number): string => `0x${n.toString(16)}`;

/** dump_page: one line with the page's refcount, mapcounts, mapping, flags and, for a large folio, its fields. */
export function dump_page(m: Machine, pfn: number): string {
  const mem = m.mem;
  if (pfn < 0 || pfn >= mem.nr_pfns) return `pfn ${pfn} does not exist`;
  const tail = (mem.flags[pfn] & PG_tail) !== 0;
  const head = tail ? pfn & ~((1 << HPAGE_PMD_ORDER) - 1) : pfn;
  const b = head >> HPAGE_PMD_ORDER;
  const mapping = mem.mapping[head];
  const parts = [
    `page:pfn ${hex(pfn)}`,
    `refcount:${mem._refcount[head]}`,
    `mapcount:${mem._mapcount[pfn]}`,
    mapping === 0 ? 'mapping:none' : `mapping:${mem.flags[head] & PG_anon ? 'anon_vma' : 'file'}#${mapping}`,
    `index:${hex(mem.index[head])}`,
  ];
  if (mem.flags[head] & PG_head)
    parts.push(
      `head:${hex(head)} order:${mem.order[head]} entire_mapcount:${mem._entire_mapcount[b]} large_mapcount:${mem._large_mapcount[b]} pincount:${mem._pincount[b]}`,
    );
  if (mem.pgmap[head]) parts.push(`pgmap:${mem.pgmap[head]}`);
  parts.push(`flags:${page_flag_names(mem.flags[pfn]) || 'none'}`);
  parts.push(`data:${hex(mem.data[pfn])}`);
  return parts.join(' ');
}
