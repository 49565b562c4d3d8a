/*
 * hmm-tests.c benchmark_thp_migration, on the engine: for each buffer size,
 * once with MADV_HUGEPAGE and once with MADV_NOHUGEPAGE, run_migration_benchmark
 * maps the buffer, writes every int, migrates it to the device and back once
 * to warm up, then times `iterations` rounds of HMM_DMIRROR_MIGRATE_TO_DEV and
 * of HMM_DMIRROR_MIGRATE_TO_SYS through the fixture's fd. The C test asserts
 * only that every run returns 0 (an mmap failure is -1, an ioctl error its
 * -errno); the times are printed, not checked.
 *
 * Each variant runs on a fresh Kernel, with RAM for three copies of the
 * largest buffer and device chunks of DEVMEM_CHUNK_SIZE (256 MiB, 65536
 * pages), the driver's own; debug_vm is off while timing, and its checker
 * runs once after each buffer, untimed. An untimed run at 2P on a throwaway
 * kernel comes first, so that the engine's code is compiled before it is
 * timed. Times are the engine's, in nanoseconds per round (the C test prints
 * milliseconds), measured with process.hrtime after a garbage collection
 * when node exposes gc().
 */
import { Kernel, mm, test_hmm } from '../engine/index';
import type { hmm_dmirror_cmd as dmirror_cmd_args } from '../engine/lib/test_hmm';

export type hmm_variant = 'hmm_device_private' | 'hmm_device_coherent';

export interface thp_migration_row {
  variant: string;
  size_pages: number;
  /** MADV_HUGEPAGE (true) or MADV_NOHUGEPAGE (false). */
  thp: boolean;
  /** run_migration_benchmark's return: 0, -1 (mmap failed), or the failing call's -errno. */
  ret: number;
  /** Mean time of one HMM_DMIRROR_MIGRATE_TO_DEV over the buffer, ns (NaN when ret != 0). */
  ns_to_device: number;
  /** Mean time of one HMM_DMIRROR_MIGRATE_TO_SYS over the buffer, ns (NaN when ret != 0). */
  ns_to_system: number;
}

const PAGE_SIZE = 4096;
/** read_pmd_pagesize() in pages. */
export const THP_PAGES = 512;
/** The C test's sizes: P/4, P/2, P, 2P, 4P, 8P, 128P (all below INT_MAX bytes). */
export const FULL_SIZES = [128, 256, 512, 1024, 2048, 4096, 65536];
export const FULL_ITERATIONS = 5;
/** DEVMEM_CHUNK_SIZE (256 MiB) in pages. */
const DEVMEM_CHUNK_PAGES = 65536;
const INT_MAX = 2 ** 31 - 1;

/** A garbage collection before each timed ioctl, when node runs with --expose-gc (npm run bench), so it does not land inside one. */
const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

/** The fixture: a fresh kernel with the dmirror driver, process T and its open fd. */
function fixture(variant: hmm_variant, max_pages: number) {
  const k = new Kernel({ ram_pages: 3 * max_pages + 4096, debug_vm: false });
  const coherent = variant === 'hmm_device_coherent';
  const mod = k.load_hmm_dmirror({ coherent, chunk_pages: DEVMEM_CHUNK_PAGES });
  const task = k.spawn('T');
  const fd = k.dmirror_open(mod, coherent ? 2 : 0, task);
  return { k, mod, task, fd };
}

type Fixture = ReturnType<typeof fixture>;

/** hmm_dmirror_cmd: the ioctl over npages from addr; 0 or -errno. */
function hmm_dmirror_cmd(f: Fixture, request: number, addr: number, npages: number): number {
  const cmd: dmirror_cmd_args = { addr, ptr: [], npages, cpages: 0, faults: 0 };
  return f.k.dmirror_ioctl(f.mod, f.fd, request, cmd);
}

/** run_migration_benchmark(fd, use_thp, buffer_size, iterations, &results). */
function run_migration_benchmark(
  f: Fixture,
  use_thp: boolean,
  npages: number,
  iterations: number,
): Omit<thp_migration_row, 'variant'> {
  const row = {
    size_pages: npages,
    thp: use_thp,
    ret: 0,
    ns_to_device: Number.NaN,
    ns_to_system: Number.NaN,
  };
  const size = npages * PAGE_SIZE;
  const ptr = f.k.mmap(f.task, {
    len: size,
    prot: mm.PROT_READ | mm.PROT_WRITE,
    flags: mm.MAP_PRIVATE | mm.MAP_ANONYMOUS,
  });
  if (ptr < 0) return { ...row, ret: -1 };
  let ret = f.k.madvise(f.task, ptr, size, use_thp ? mm.MADV_HUGEPAGE : mm.MADV_NOHUGEPAGE);
  if (ret) return { ...row, ret };
  /* ptr[i] = i & 0xFF: one store per page, each page's word naming the page. */
  const words = Array.from({ length: npages }, (_, i) => i & 0xff);
  if (f.k.access(f.task, ptr, npages, true, words).fault !== null) return { ...row, ret: -mm.EFAULT };
  ret = hmm_dmirror_cmd(f, test_hmm.HMM_DMIRROR_MIGRATE_TO_DEV, ptr, npages);
  if (ret) return { ...row, ret };
  ret = hmm_dmirror_cmd(f, test_hmm.HMM_DMIRROR_MIGRATE_TO_SYS, ptr, npages);
  if (ret) return { ...row, ret };
  let s2d = 0n;
  let d2s = 0n;
  for (let i = 0; i < iterations; i++) {
    collect();
    let t0 = process.hrtime.bigint();
    ret = hmm_dmirror_cmd(f, test_hmm.HMM_DMIRROR_MIGRATE_TO_DEV, ptr, npages);
    s2d += process.hrtime.bigint() - t0;
    if (ret) return { ...row, ret };
    collect();
    t0 = process.hrtime.bigint();
    ret = hmm_dmirror_cmd(f, test_hmm.HMM_DMIRROR_MIGRATE_TO_SYS, ptr, npages);
    d2s += process.hrtime.bigint() - t0;
    if (ret) return { ...row, ret };
  }
  /* hmm_buffer_free */
  f.k.munmap(f.task, ptr, size);
  f.k.check();
  return { ...row, ns_to_device: Number(s2d) / iterations, ns_to_system: Number(d2s) / iterations };
}

/**
 * benchmark_thp_migration: every size (in pages), with THP and without, on a
 * fresh kernel per variant; one row per run, in the C test's order.
 */
export function benchmark_thp_migration(opts: {
  sizes_pages: number[];
  iterations: number;
  variants: hmm_variant[];
}): thp_migration_row[] {
  const rows: thp_migration_row[] = [];
  const sizes = opts.sizes_pages.filter((n) => n * PAGE_SIZE <= INT_MAX);
  if (sizes.length === 0) return rows;
  for (const variant of opts.variants) {
    if (variant !== 'hmm_device_private' && variant !== 'hmm_device_coherent')
      throw new Error(`benchmark_thp_migration: no variant ${variant} in FIXTURE(hmm)`);
    /* Untimed, on a throwaway kernel: the engine's own warm-up (its code compiled before it is timed). */
    const warm = fixture(variant, 2 * THP_PAGES);
    for (const thp of [true, false]) run_migration_benchmark(warm, thp, 2 * THP_PAGES, 1);
    const f = fixture(variant, Math.max(...sizes));
    for (const npages of sizes)
      for (const thp of [true, false])
        rows.push({ variant, ...run_migration_benchmark(f, thp, npages, opts.iterations) });
  }
  return rows;
}

const pad = (s: string, w: number): string => (s.length >= w ? s : ' '.repeat(w - s.length) + s);
const ms = (ns: number): string => (Number.isNaN(ns) ? '-' : (ns / 1e6).toFixed(3));
const gbps = (pages: number, ns: number): string =>
  Number.isNaN(ns) ? '-' : ((pages * PAGE_SIZE) / 2 ** 30 / (ns / 1e9)).toFixed(2);

/** print_benchmark_results, for every size of every variant: THP against no THP. */
export function thp_migration_table(rows: thp_migration_row[], iterations: number): string {
  const lines = [
    `HMM THP Migration Benchmark (engine): mean of ${iterations} rounds each way after one warm-up round`,
    '',
    `${pad('variant', 20)}${pad('size', 10)}${pad('ret', 6)}${pad('S->D ms THP', 13)}${pad('no THP', 10)}${pad('D->S ms THP', 13)}${pad('no THP', 10)}${pad('S->D GB/s THP', 15)}${pad('no THP', 10)}`,
  ];
  for (const r of rows.filter((x) => x.thp)) {
    const n = rows.find((x) => !x.thp && x.variant === r.variant && x.size_pages === r.size_pages);
    if (!n) continue;
    const mib = `${(r.size_pages * PAGE_SIZE) / 2 ** 20} MiB`;
    lines.push(
      pad(r.variant, 20) +
        pad(mib, 10) +
        pad(r.ret === 0 && n.ret === 0 ? '0' : `${r.ret}/${n.ret}`, 6) +
        pad(ms(r.ns_to_device), 13) +
        pad(ms(n.ns_to_device), 10) +
        pad(ms(r.ns_to_system), 13) +
        pad(ms(n.ns_to_system), 10) +
        pad(gbps(r.size_pages, r.ns_to_device), 15) +
        pad(gbps(n.size_pages, n.ns_to_device), 10),
    );
  }
  return lines.join('\n');
}
