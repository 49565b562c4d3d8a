/*
 * Engine benchmark: memory per simulated page and ns per simulated page for
 * first-touch faults, fork, copy-on-write and munmap, at 1 Mi and 4 Mi 4 KiB
 * pages (a 4 GiB and a 16 GiB simulated process), set side by side with what
 * the real kernel costs on this machine.
 *
 * Run with `npm run bench` (needs --expose-gc). Writes reports/bench.json and
 * prints a table.
 *
 * Method, per N and per repetition, each on a fresh Kernel (THP never, debug_vm off):
 *   gc; baseline = heapUsed + arrayBuffers
 *   boot Kernel with ram_pages = 2N + 4096 (rounded up to 512): room for N first-touched pages
 *     plus N CoW copies; spawn A; mmap N pages private anonymous read/write
 *   [timed] first touch: one write fault per page
 *   gc; memory = heapUsed + arrayBuffers - baseline
 *   gc; [timed] fork (only the k.fork call)
 *   gc; [timed] CoW write: A writes every page while the child B is alive
 *   gc; [timed] munmap of A's whole range
 *   exit B
 * Separately, per repetition, a fresh Kernel with only ram_pages = N + 4096 (enough for
 * the first touch, no room for CoW) gives the memory figure when RAM is about N pages.
 * Each figure is the median over the repetitions. One untimed run at a small N
 * comes first, so JIT compilation is not in the first measured repetition.
 *
 * k.access returns an array with one value per page (N numbers). Building it is
 * part of the timed first-touch and CoW figures; that is accepted here (it is a
 * small cost next to a fault), and the array is dropped before memory is measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kernel, mm } from '../engine/index';
import {
  benchmark_thp_migration,
  FULL_ITERATIONS,
  FULL_SIZES,
  THP_PAGES,
  thp_migration_table,
} from './thp_migration';

const SIZES = [1_048_576, 4_194_304];
const REPS = 5;
const WARMUP_PAGES = 65_536;
const PAGE_SIZE = 4096;
const PTE_TABLE_BYTES = 512 * 4;

const KERNEL_BASELINE = {
  source:
    'shared/reference/kernel-baseline.md: real Linux 6.18 on this machine (Firecracker/KVM, AMD EPYC Zen 4), ' +
    '4 KiB pages (MADV_NOHUGEPAGE), median of 7; "Reading the numbers" section',
  ns_per_page: {
    first_touch: 1600,
    fork: 67.5,
    cow_write: 2100,
    munmap: 245,
  },
  notes: {
    first_touch: 'touch(first-fault), about 1.5-1.7 us/page',
    fork: 'fork(return) at N=1048576 (70.8 ms)',
    cow_write: 'CoW write(child alive), guest-side figure at N <= 256K (N=1M measured 5747, a VM artefact)',
    munmap: 'munmap after CoW, N=262144 and N=1048576',
  },
};

const TARGETS = {
  bytes_per_page: 32,
  fork_ns_per_page: 70,
};

const collect: () => void = (() => {
  const gc = globalThis.gc;
  if (!gc) {
    console.error('bench: run node with --expose-gc (npm run bench)');
    process.exit(2);
  }
  return () => {
    gc();
    gc();
  };
})();

const usedBytes = (): number => {
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
};

const ramPagesFor = (n: number): number => Math.ceil((2 * n + 4096) / 512) * 512;

interface Rep {
  ramPages: number;
  totalBytes: number;
  totalBytesRamN: number;
  structPageBytes: number;
  pageTableBytes: number;
  ns: { firstTouch: number; fork: number; cowWrite: number; munmap: number };
}

/** Run k.access and keep only whether it faulted, so the returned array of values can be collected. */
function accessAll(
  k: Kernel,
  task: ReturnType<Kernel['spawn']>,
  addr: number,
  n: number,
  value: number,
): void {
  const r = k.access(task, addr, n, true, value);
  if (r.fault !== null) throw new Error(`access faulted: ${r.fault} at 0x${r.fault_address.toString(16)}`);
}

function pageTableBytes(k: Kernel): number {
  let bytes = 0;
  for (const m of k.machine.mms) for (const t of m.pte_tables.values()) bytes += t.byteLength;
  return bytes;
}

const elapsed = (t0: bigint): number => Number(process.hrtime.bigint() - t0);

function bootAndMap(
  n: number,
  ramPages: number,
): { k: Kernel; a: ReturnType<Kernel['spawn']>; addr: number } {
  const k = new Kernel({ ram_pages: ramPages, debug_vm: false, transparent_hugepage: 'never' });
  const a = k.spawn('A');
  const addr = k.mmap(a, {
    len: n * PAGE_SIZE,
    prot: mm.PROT_READ | mm.PROT_WRITE,
    flags: mm.MAP_PRIVATE | mm.MAP_ANONYMOUS,
  });
  if (addr < 0) throw new Error(`mmap failed: ${addr}`);
  return { k, a, addr };
}

/** Memory growth for N first-touched pages on a machine with just enough RAM (N + 4096 pages). */
function memoryAtRamN(n: number): number {
  collect();
  const before = usedBytes();
  const { k, a, addr } = bootAndMap(n, n + 4096);
  accessAll(k, a, addr, n, 0x5a);
  collect();
  const bytes = usedBytes() - before;
  k.exit(a);
  return bytes;
}

function runOnce(n: number): Rep {
  collect();
  const before = usedBytes();
  const ramPages = ramPagesFor(n);
  const { k, a, addr } = bootAndMap(n, ramPages);

  let t0 = process.hrtime.bigint();
  accessAll(k, a, addr, n, 0x5a);
  const firstTouch = elapsed(t0);

  collect();
  const totalBytes = usedBytes() - before;
  const structPageBytes = k.machine.mem.byteLength();
  const ptBytes = pageTableBytes(k);
  if (ptBytes !== Math.ceil(n / 512) * PTE_TABLE_BYTES)
    throw new Error(`unexpected page-table size ${ptBytes}`);

  collect();
  t0 = process.hrtime.bigint();
  const b = k.fork(a, 'B');
  const fork = elapsed(t0);
  if (typeof b === 'number') throw new Error(`fork failed: ${b}`);

  collect();
  t0 = process.hrtime.bigint();
  accessAll(k, a, addr, n, 1);
  const cowWrite = elapsed(t0);

  collect();
  t0 = process.hrtime.bigint();
  const ret = k.munmap(a, addr, n * PAGE_SIZE);
  const munmap = elapsed(t0);
  if (ret !== 0) throw new Error(`munmap failed: ${ret}`);
  k.exit(b);
  k.exit(a);

  return {
    ramPages,
    totalBytes,
    totalBytesRamN: memoryAtRamN(n),
    structPageBytes,
    pageTableBytes: ptBytes,
    ns: { firstTouch: firstTouch / n, fork: fork / n, cowWrite: cowWrite / n, munmap: munmap / n },
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

interface Result {
  pages: number;
  ram_pages: number;
  bytes_per_page: {
    /** (heapUsed + arrayBuffers) growth from before boot to after first touch, / N simulated pages. */
    total: number;
    /** Like total, but on a Kernel with ram_pages = N + 4096 (first touch only). */
    total_ram_n: number;
    /** mem_map typed arrays / N simulated pages (the arrays are sized by ram_pages, about 2N). */
    struct_page_arrays: number;
    /** mem_map typed arrays / ram_pages. */
    struct_page_arrays_per_ram_page: number;
    /** PTE tables (Uint32Array(512) each) of every mm / N simulated pages. */
    page_tables: number;
    /** total - struct_page_arrays - page_tables, per simulated page. */
    other: number;
  };
  ns_per_page: { first_touch: number; fork: number; cow_write: number; munmap: number };
}

function bench(n: number): Result {
  const reps: Rep[] = [];
  for (let i = 0; i < REPS; i++) reps.push(runOnce(n));
  const ramPages = reps[0].ramPages;
  const total = median(reps.map((r) => r.totalBytes)) / n;
  const arrays = median(reps.map((r) => r.structPageBytes));
  const tables = median(reps.map((r) => r.pageTableBytes)) / n;
  return {
    pages: n,
    ram_pages: ramPages,
    bytes_per_page: {
      total: round(total, 2),
      total_ram_n: round(median(reps.map((r) => r.totalBytesRamN)) / n, 2),
      struct_page_arrays: round(arrays / n, 2),
      struct_page_arrays_per_ram_page: round(arrays / ramPages, 2),
      page_tables: round(tables, 2),
      other: round(total - arrays / n - tables, 2),
    },
    ns_per_page: {
      first_touch: round(median(reps.map((r) => r.ns.firstTouch))),
      fork: round(median(reps.map((r) => r.ns.fork))),
      cow_write: round(median(reps.map((r) => r.ns.cowWrite))),
      munmap: round(median(reps.map((r) => r.ns.munmap))),
    },
  };
}

/* ---------------- table ---------------- */

const fmtInt = (x: number): string => x.toLocaleString('en-US');
const pad = (s: string, w: number): string => (s.length >= w ? s : ' '.repeat(w - s.length) + s);
const padR = (s: string, w: number): string => (s.length >= w ? s : s + ' '.repeat(w - s.length));

function table(results: Result[], seconds: number): string {
  const lines: string[] = [];
  const label = 62;
  const col = 15;
  const head = (title: string, extra: string[]) =>
    padR(title, label) + results.map((r) => pad(`N=${fmtInt(r.pages)}`, col)).join('') + extra.join('');
  lines.push(
    `mmspec engine benchmark: node ${process.version}, median of ${REPS} reps, fresh Kernel per rep, ` +
      `THP never, debug_vm off (${seconds.toFixed(1)} s)`,
  );
  lines.push('');
  lines.push(head('Memory, bytes', [pad('target', 10), pad('', 8)]));
  lines.push(
    padR('  RAM pages (ram_pages = 2N + 4096, rounded to 512)', label) +
      results.map((r) => pad(fmtInt(r.ram_pages), col)).join(''),
  );
  const memRow = (name: string, pick: (r: Result) => number, target?: number) => {
    let extra = '';
    if (target !== undefined) {
      const ok = results.every((r) => pick(r) <= target);
      extra = pad(`<= ${target}`, 10) + pad(ok ? 'met' : 'MISSED', 8);
    }
    lines.push(padR(name, label) + results.map((r) => pad(pick(r).toFixed(2), col)).join('') + extra);
  };
  memRow(
    '  per simulated page: N RAM pages (+4096), all mapped',
    (r) => r.bytes_per_page.total_ram_n,
    TARGETS.bytes_per_page,
  );
  memRow('  total (heapUsed+arrayBuffers) / N, with 2N RAM for CoW', (r) => r.bytes_per_page.total);
  memRow('    struct page arrays / simulated page N', (r) => r.bytes_per_page.struct_page_arrays);
  memRow('    page tables (PTE tables, all mms) / simulated page N', (r) => r.bytes_per_page.page_tables);
  memRow('    other (total - arrays - page tables) / simulated page N', (r) => r.bytes_per_page.other);
  memRow(
    '  struct page arrays / RAM page (ram_pages)',
    (r) => r.bytes_per_page.struct_page_arrays_per_ram_page,
  );
  lines.push('');

  const k = KERNEL_BASELINE.ns_per_page;
  const w = 14;
  const wr = 10;
  lines.push(
    padR('Time, ns per simulated page (elapsed / N)', 44) +
      results.map((r) => pad(`N=${fmtInt(r.pages)}`, w) + pad('eng/kern', wr)).join('') +
      pad('kernel', wr) +
      pad('target', 10) +
      pad('', 8),
  );
  const timeRow = (name: string, key: keyof Result['ns_per_page'], target?: number) => {
    let extra = '';
    if (target !== undefined) {
      const ok = results.every((r) => r.ns_per_page[key] <= target);
      extra = pad(`<= ${target}`, 10) + pad(ok ? 'met' : 'MISSED', 8);
    }
    lines.push(
      padR(`  ${name}`, 44) +
        results
          .map(
            (r) =>
              pad(r.ns_per_page[key].toFixed(1), w) + pad(`${(r.ns_per_page[key] / k[key]).toFixed(2)}x`, wr),
          )
          .join('') +
        pad(String(k[key]), wr) +
        extra,
    );
  };
  timeRow('first-touch write fault', 'first_touch');
  timeRow('fork (k.fork only)', 'fork', TARGETS.fork_ns_per_page);
  timeRow('CoW write (child alive)', 'cow_write');
  timeRow('munmap (whole range, after CoW)', 'munmap');
  lines.push('');
  lines.push('kernel = real Linux on this machine, 4 KiB pages (shared/reference/kernel-baseline.md):');
  for (const [op, note] of Object.entries(KERNEL_BASELINE.notes)) lines.push(`  ${padR(op, 12)} ${note}`);
  return lines.join('\n');
}

/* ---------------- main ---------------- */

function main(): void {
  const t0 = process.hrtime.bigint();
  runOnce(WARMUP_PAGES);
  const results = SIZES.map(bench);
  const seconds = elapsed(t0) / 1e9;
  const t1 = process.hrtime.bigint();
  const thpRows = benchmark_thp_migration({
    sizes_pages: FULL_SIZES,
    iterations: FULL_ITERATIONS,
    variants: ['hmm_device_private', 'hmm_device_coherent'],
  });
  const thpSeconds = elapsed(t1) / 1e9;

  const report = {
    node: process.version,
    method:
      `median of ${REPS} reps per N, each on a fresh Kernel (ram_pages = 2N + 4096 rounded to 512, ` +
      "transparent_hugepage 'never', debug_vm off); ns_per_page = elapsed / N; bytes_per_page.total = " +
      'growth of heapUsed + arrayBuffers (after gc) from before the Kernel is created to after N pages are first-touched, / N',
    results,
    kernel_baseline: KERNEL_BASELINE,
    targets: TARGETS,
    met: {
      bytes_per_page: results.every((r) => r.bytes_per_page.total_ram_n <= TARGETS.bytes_per_page),
      fork: results.every((r) => r.ns_per_page.fork <= TARGETS.fork_ns_per_page),
    },
    benchmark_thp_migration: {
      test: 'tools/testing/selftests/mm/hmm-tests.c benchmark_thp_migration (bench/thp_migration.ts)',
      method:
        `sizes ${FULL_SIZES.map((n) => `${n / THP_PAGES}P`).join(', ')} (P = ${THP_PAGES} pages), each with ` +
        `MADV_HUGEPAGE and MADV_NOHUGEPAGE; one warm-up round, then ${FULL_ITERATIONS} timed rounds each way; ` +
        'a fresh Kernel per variant, debug_vm off while timing; ns_to_device / ns_to_system = mean ns of one ioctl',
      seconds: round(thpSeconds, 1),
      passed: thpRows.every((r) => r.ret === 0),
      rows: thpRows,
    },
  };
  const dir = join(__dirname, '..', 'reports');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(table(results, seconds));
  console.log(`\n${thp_migration_table(thpRows, FULL_ITERATIONS)}\n(${thpSeconds.toFixed(1)} s)`);
  console.log(`\nwrote ${join('reports', 'bench.json')}`);
}

main();
