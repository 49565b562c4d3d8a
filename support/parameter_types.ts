/**
 * The domain vocabulary of the feature files, as Cucumber Expression
 * parameter types. Each doc comment gives an example step.
 */
import { mm, test_hmm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { type IntPattern, parsePattern } from './patterns';
import { defineParameterType } from './vocabulary';
import type { MmWorld, PageRange } from './world';

/** A process the scenario created: `When process A forks process B` (after `Given a process A`). */
defineParameterType({
  name: 'process',
  regexp: /process ([A-Z][A-Za-z0-9]*)/,
  transformer(this: MmWorld, name: string): task_struct {
    return this.process(name);
  },
});

/**
 * Pages of a named buffer: `page 3 of buffer X`, `pages 2-5 of buffer X`, or
 * the whole of `buffer X` (names may hold `_`, as the whole mapping `B_map`
 * behind an aligned window B). Example: `When process A writes 0x5a to page 3 of buffer X`.
 */
defineParameterType({
  name: 'pages',
  regexp: /(?:pages? (\d+)(?:-(\d+))? of )?buffer ([A-Za-z][A-Za-z0-9_]*)/,
  transformer(this: MmWorld, first: string | undefined, last: string | undefined, name: string): PageRange {
    const buffer = this.buffer(name);
    const lo = first === undefined ? 0 : Number(first);
    const hi = first === undefined ? buffer.pages - 1 : last === undefined ? lo : Number(last);
    if (hi < lo || hi >= buffer.pages)
      throw new Error(`pages ${lo}-${hi} are outside buffer ${name}, which has pages 0-${buffer.pages - 1}`);
    return { buffer, first: lo, count: hi - lo + 1 };
  },
});

/** A page's contents, written in hex: `When process A writes 0x5a to buffer X`. */
defineParameterType({
  name: 'value',
  regexp: /0x[0-9a-fA-F]+/,
  transformer: (hex: string): number => Number.parseInt(hex, 16),
});

/** A size: `Given process A maps 2 MiB of private anonymous memory as buffer X`, or `8 pages`. */
defineParameterType({
  name: 'size',
  regexp: /(\d+) (pages?|KiB|MiB)/,
  transformer: (n: string, unit: string): number =>
    unit.startsWith('page') ? Number(n) : (Number(n) * (unit === 'MiB' ? 1 << 20 : 1 << 10)) / 4096,
});

/** MAP_PRIVATE or MAP_SHARED, in words: `maps 4 pages of shared anonymous memory`. */
defineParameterType({
  name: 'sharing',
  regexp: /private|shared/,
  transformer: (s: string): number => (s === 'shared' ? mm.MAP_SHARED : mm.MAP_PRIVATE),
});

/** An mprotect() protection, in words: `When process A makes buffer X read-only`. */
defineParameterType({
  name: 'protection',
  regexp: /read-only|read-write|inaccessible/,
  transformer: (s: string): number =>
    s === 'read-only' ? mm.PROT_READ : s === 'read-write' ? mm.PROT_READ | mm.PROT_WRITE : mm.PROT_NONE,
});

/**
 * How a page is mapped, as a Then-step states it:
 * `Then in process A, page 0 of buffer X is mapped read-only`.
 */
export type MappingState =
  | 'not mapped'
  | 'the zero page'
  | 'the huge zero page'
  | 'mapped read-only'
  | 'mapped writable'
  | 'PMD-mapped read-only'
  | 'PMD-mapped writable'
  | 'inaccessible'
  | 'device-private, writable'
  | 'device-private, read-only'
  | 'a migration entry'
  | 'device-exclusive'
  | 'PMD-mapped device-private, writable'
  | 'PMD-mapped device-private, read-only'
  | 'a PMD migration entry';
defineParameterType({
  name: 'mapping_state',
  regexp:
    /not mapped|the zero page|the huge zero page|mapped read-only|mapped writable|PMD-mapped read-only|PMD-mapped writable|inaccessible|PMD-mapped device-private, writable|PMD-mapped device-private, read-only|a PMD migration entry|device-private, writable|device-private, read-only|a migration entry|device-exclusive/,
  transformer: (s: string): MappingState => s as MappingState,
});

/** An MMU-notifier event name: `Then the notifier on buffer X saw MMU_NOTIFY_PROTECTION_PAGE`. */
defineParameterType({
  name: 'mmu_event',
  regexp: /MMU_NOTIFY_[A-Z_]+/,
  transformer: (s: string): string => s,
});

/** An rss counter, in words: `Then process A has 4 anonymous pages`. */
defineParameterType({
  name: 'rss_counter',
  regexp: /anonymous|file|shmem/,
  transformer: (s: string): 'MM_ANONPAGES' | 'MM_FILEPAGES' | 'MM_SHMEMPAGES' =>
    s === 'anonymous' ? 'MM_ANONPAGES' : s === 'file' ? 'MM_FILEPAGES' : 'MM_SHMEMPAGES',
});

/** A user-visible fault, as a Then-step claims it: `Then the access fails with SIGSEGV`. */
defineParameterType({
  name: 'signal',
  regexp: /SIGSEGV|SIGBUS/,
  transformer: (s: string): string => s,
});

/**
 * A dmirror device of lib/test_hmm.c: `the private device` (device 0),
 * `the coherent device` (device 2), or one by number, `private device 1`.
 * Example: `When the private device migrates buffer X of process A to device memory`.
 */
defineParameterType({
  name: 'device',
  regexp: /the (private|coherent) device|(?:private|coherent) device ([0-3])/,
  transformer: (kind: string | undefined, n: string | undefined): number =>
    n !== undefined ? Number(n) : kind === 'coherent' ? 2 : 0,
});

/** Where a page's memory is: `Then page 0 of buffer X in process A is in device-coherent memory`. */
defineParameterType({
  name: 'memory',
  regexp: /system RAM|device-private memory|device-coherent memory/,
  transformer: (s: string): string =>
    s === 'system RAM'
      ? 'system RAM'
      : s === 'device-private memory'
        ? 'MEMORY_DEVICE_PRIVATE'
        : 'MEMORY_DEVICE_COHERENT',
});

/** A negative errno as the kernel returns it: `Then the command fails with -ENOENT`. */
defineParameterType({
  name: 'errno',
  regexp: /-E[A-Z]+/,
  transformer: (s: string): number => {
    const value = (mm as unknown as Record<string, number>)[s.slice(1)];
    if (typeof value !== 'number') throw new Error(`unknown errno ${s}`);
    return -value;
  },
});

/** GUP flags as the kernel spells them: `When process A calls get_user_pages with FOLL_LONGTERM on buffer X`. */
defineParameterType({
  name: 'gup_flags',
  regexp: /FOLL_[A-Z0-9_]+(?: \| FOLL_[A-Z0-9_]+)*/,
  transformer: (s: string): number =>
    s.split(' | ').reduce((flags, name) => {
      const value = (mm as unknown as Record<string, number>)[name];
      if (typeof value !== 'number') throw new Error(`unknown GUP flag ${name}`);
      return flags | value;
    }, 0),
});

/** An operation of the semantics matrix: `When process A forks process B, then A writes it`. */
defineParameterType({
  name: 'matrix_operation',
  regexp:
    /reads|writes|forks process B, then A writes|forks process B, then B writes|pins|pins long-term|has the private device migrate/,
  transformer: (s: string): string =>
    ({
      reads: 'read',
      writes: 'write',
      'forks process B, then A writes': 'fork, A writes',
      'forks process B, then B writes': 'fork, B writes',
      pins: 'pin',
      'pins long-term': 'long-term pin',
      'has the private device migrate': 'migrate',
    })[s] as string,
});

/**
 * The FS-DAX refcount design of seed 003: `old` (devmap PTEs, idle pages at
 * refcount 1; until ≈v6.14) or `fixed` (refcounted PTEs, idle at 0; ≈v6.15 on).
 * Example: `Given the kernel uses the old devmap refcount design`.
 */
defineParameterType({
  name: 'devmap_design',
  regexp: /old|fixed/,
  transformer: (s: string): 'old' | 'fixed' => s as 'old' | 'fixed',
});

/**
 * The kind of a present PTE, as the mm sees it: `a special devmap PTE` (the
 * old DAX design), `a special PTE` (the zero page, PFN maps) or `a normal PTE`.
 * Example: `Then the PTE of page 0 of buffer D in process A is a special devmap PTE`.
 */
export type PteKind = 'a special devmap PTE' | 'a special PTE' | 'a normal PTE';
defineParameterType({
  name: 'pte_kind',
  regexp: /a special devmap PTE|a special PTE|a normal PTE/,
  transformer: (s: string): PteKind => s as PteKind,
});

/**
 * A variant of an hmm-tests.c fixture, as the kselftest harness names it:
 * `Given the hmm fixture with variant hmm_device_private` (devices 0 and 1),
 * or `hmm2_device_coherent` (devices 2 and 3).
 */
defineParameterType({
  name: 'kselftest_variant',
  regexp: /(hmm2?)_device_(private|coherent)/,
  transformer: (fixture: string, memory: string) => ({
    fixture: fixture as 'hmm' | 'hmm2',
    variant: `${fixture}_device_${memory}`,
    devices: memory === 'private' ? [0, 1] : [2, 3],
  }),
});

/** One of the fixture's open device files: `fd` (FIXTURE(hmm)), or `fd0`/`fd1` (FIXTURE(hmm2)). */
defineParameterType({
  name: 'fd',
  regexp: /fd[01]?/,
  transformer: (s: string): number => (s === 'fd1' ? 1 : 0),
});

/** The ioctls of lib/test_hmm.c by their uapi names without the HMM_DMIRROR_ prefix (READ, MIGRATE_TO_DEV…). */
export const DMIRROR_IOCTLS: Record<string, number> = {
  READ: test_hmm.HMM_DMIRROR_READ,
  WRITE: test_hmm.HMM_DMIRROR_WRITE,
  MIGRATE_TO_DEV: test_hmm.HMM_DMIRROR_MIGRATE_TO_DEV,
  MIGRATE_TO_SYS: test_hmm.HMM_DMIRROR_MIGRATE_TO_SYS,
  SNAPSHOT: test_hmm.HMM_DMIRROR_SNAPSHOT,
  EXCLUSIVE: test_hmm.HMM_DMIRROR_EXCLUSIVE,
  CHECK_EXCLUSIVE: test_hmm.HMM_DMIRROR_CHECK_EXCLUSIVE,
  RELEASE: test_hmm.HMM_DMIRROR_RELEASE,
  FLAGS: test_hmm.HMM_DMIRROR_FLAGS,
};

/** An ioctl of lib/test_hmm.c, by its uapi name: `When process T runs HMM_DMIRROR_READ on buffer B`. */
defineParameterType({
  name: 'dmirror_ioctl',
  regexp:
    /HMM_DMIRROR_(?:READ|WRITE|MIGRATE_TO_DEV|MIGRATE_TO_SYS|SNAPSHOT|EXCLUSIVE|CHECK_EXCLUSIVE|RELEASE)/,
  transformer: (s: string): string => s.slice('HMM_DMIRROR_'.length),
});

/**
 * The formula a selftest fills or checks a buffer's ints with: `i`, `-i`,
 * `i + 1`, `0`, or `0xFF bytes`. Example: `Given process T sets ptr[i] = i over buffer B`.
 * See support/patterns.ts for how a page's one engine word holds its 1024 ints.
 */
defineParameterType({
  name: 'ints',
  regexp: /-?i(?: \+ \d+)?|0xFF bytes|0/,
  transformer: (s: string): IntPattern => parsePattern(s),
});

/** A list of SNAPSHOT bytes, one per page: `0xFF, 0xFF, 0x11, 0x01`. */
defineParameterType({
  name: 'bytes',
  regexp: /0x[0-9A-Fa-f]{2}(?:, 0x[0-9A-Fa-f]{2})*/,
  transformer: (s: string): number[] => s.split(', ').map((b) => Number.parseInt(b, 16)),
});

/**
 * The flags of a selftest's mremap(), as hmm-tests.c migrate_remap_fault
 * passes them: always MREMAP_MAYMOVE | MREMAP_FIXED, optionally with
 * MREMAP_DONTUNMAP; the value is whether DONTUNMAP is set. Example: `When
 * process T runs HMM_DMIRROR_MIGRATE_TO_DEV on buffer B after an
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of it to 512 KiB past its end`.
 */
defineParameterType({
  name: 'mremap_flags',
  regexp: /MREMAP_MAYMOVE \| MREMAP_FIXED(?: \| MREMAP_DONTUNMAP)?/,
  transformer: (s: string): boolean => s.endsWith('MREMAP_DONTUNMAP'),
});

/** A backing cow.c runs its anonymous cases on: `Given process P has a PTE-mapped THP as buffer X, holding 0x01`. */
defineParameterType({
  name: 'cow_backing',
  regexp: /a small page|a PMD-mapped THP|a PTE-mapped THP|one THP PTE/,
  transformer: (s: string): string => s,
});
