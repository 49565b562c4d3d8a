/**
 * MmWorld: one fresh simulated kernel per scenario, plus the names a scenario
 * gives to processes, buffers and pages. Steps call its task methods (the
 * "how"); Then-steps ask questions through support/queries.ts.
 */
import { AssertionError } from 'node:assert';
import { type IWorldOptions, setWorldConstructor, World } from '@cucumber/cucumber';
import { type entry_view, Kernel, type MachineConfig, type notifier_event } from '../engine';
import type { daxfs, pmem_device } from '../engine/fs/dax';
import type { migrate_vma } from '../engine/include/linux/migrate';
import { MAP_ANONYMOUS } from '../engine/include/linux/mm';
import type { address_space, task_struct } from '../engine/include/linux/mm_types';
import type { dmirror, hmm_dmirror_cmd, hmm_dmirror_module } from '../engine/lib/test_hmm';
import { type debug_vm_mode, set_debug_vm_mode as setDebugVmMode } from '../engine/mm/debug_vm';
import type { mmap_args } from '../engine/mm/mmap';
import { errnoName } from './c';
import { hexPfnText, Translator } from './vocabulary';

export const PAGE = 4096;

/**
 * MMSPEC_DEBUG_VM=full checks every debug_vm rule against the whole machine
 * after every operation; 'incremental' (the default) checks what each
 * operation changed; 'off' checks nothing (engine/mm/debug_vm.ts).
 */
setDebugVmMode((process.env.MMSPEC_DEBUG_VM as debug_vm_mode | undefined) || 'incremental');

/** A named address range. Buffers keep their address across fork, as mappings do. */
export interface Buffer {
  readonly name: string;
  readonly start: number;
  readonly pages: number;
}

/** A page range inside a buffer, as written in a step: "page 3 of buffer X", "pages 0-3 of buffer X", "buffer X". */
export interface PageRange {
  readonly buffer: Buffer;
  readonly first: number;
  readonly count: number;
}

/** An outcome a When-step produced that a Then-step must claim (cucumber-js's verifiedLastRunError). */
export interface Outcome {
  readonly what: string;
  readonly detail: string;
  claimed: boolean;
}

/** An outcome as a reader says it: `errno -14` is `errno -EFAULT (-14)`. */
export function spelled(what: string): string {
  const m = /^errno (-\d+)$/.exec(what);
  if (!m) return what;
  try {
    return `errno ${errnoName(Number(m[1]))} (${m[1]})`;
  } catch {
    return what;
  }
}

export class MmWorld extends World {
  kernel: Kernel;
  readonly processes = new Map<string, task_struct>();
  readonly buffers = new Map<string, Buffer>();
  /** Pages a scenario named ("the original page"), by name, as pfns. */
  readonly namedPages = new Map<string, number>();
  readonly notifiers = new Map<string, notifier_event[]>();
  /** Pins and GUP references taken, by "process/buffer/page", so that they can be released. */
  readonly grabbed = new Map<string, { page: number; pin: boolean }[]>();
  readonly outcomes: Outcome[] = [];
  /** Values of the last load, by process name. */
  readonly lastRead = new Map<string, number[]>();
  /** The dmirror test driver, once a Given loaded it. */
  hmm: hmm_dmirror_module | null = null;
  /** Open device files, by "device/process". */
  readonly mirrors = new Map<string, dmirror>();
  /** The last dmirror command: its return value and its (copied back) command struct. */
  lastCommand: { name: string; ret: number; cmd: hmm_dmirror_cmd } | null = null;
  /**
   * The hmm-tests.c fixture a conformance scenario runs in (FIXTURE(hmm) or
   * FIXTURE(hmm2) and its variant): the dmirror devices behind its fd, or fd0
   * and fd1.
   */
  kselftest: { fixture: 'hmm' | 'hmm2'; variant: string; devices: number[] } | null = null;
  /** Each buffer's `mirror` of hmm-tests.c: the ioctls' bounce buffer, one contents word per page. */
  readonly bounce = new Map<string, number[]>();
  /** What the last CPU load of single ints read (`ptr[2048]`). */
  lastInts: number[] = [];
  /** A MIGRATE_TO_DEV a scenario stopped half-way. */
  pendingMigration: { device: number; args: migrate_vma } | null = null;
  /** Pages the lockless GUP-fast walk took in the last GUP-fast call. */
  lastGupFast = -1;
  /** Page faults (PGFAULT) taken by the last CPU access. */
  lastAccessFaults = 0;
  /** What the last munmap, mprotect or madvise step returned (0 or -errno). */
  lastSyscall = 0;
  /** Processes and buffers the scenario touched, for the state picture. */
  readonly picture = { processes: new Set<string>(), buffers: new Set<string>() };

  /** The scenario's C translation for the real kernel, built as it runs (support/vocabulary.ts). */
  translation: Translator | null = new Translator();

  constructor(options: IWorldOptions) {
    super(options);
    this.kernel = new Kernel();
  }

  /** Reboot with another configuration (a Given that sets THP mode or RAM size must come first). */
  boot(config: Partial<MachineConfig>): void {
    if (this.processes.size > 0) throw new Error('the machine must be configured before any process exists');
    this.kernel = new Kernel(config);
  }

  process(name: string): task_struct {
    const task = this.processes.get(name);
    if (!task)
      throw new Error(
        `unknown process "${name}": no step created it (known: ${[...this.processes.keys()].join(', ') || 'none'})`,
      );
    return task;
  }

  addProcess(name: string, task: task_struct): void {
    if (this.processes.has(name)) throw new Error(`process "${name}" already exists`);
    this.processes.set(name, task);
    this.picture.processes.add(name);
  }

  buffer(name: string): Buffer {
    const buffer = this.buffers.get(name);
    if (!buffer)
      throw new Error(
        `unknown buffer "${name}": no step mapped it (known: ${[...this.buffers.keys()].join(', ') || 'none'})`,
      );
    return buffer;
  }

  addBuffer(buffer: Buffer): void {
    this.buffers.set(buffer.name, buffer);
    this.picture.buffers.add(buffer.name);
  }

  /** mmap `pages` pages (of anonymous memory, or of args.file) and name them as a buffer; returns its start. */
  mapBuffer(task: task_struct, name: string, pages: number, args: Omit<mmap_args, 'len'>): number {
    const start = this.kernel.mmap(task, { len: pages * PAGE, ...args });
    if (start < 0)
      throw new AssertionError({ message: `mmap() of ${pages} pages as buffer ${name} returned ${start}` });
    this.addBuffer({ name, start, pages });
    return start;
  }

  /** mmap an anonymous buffer (`flags` gives MAP_PRIVATE or MAP_SHARED) and name it; returns its start. */
  mapAnonymous(task: task_struct, pages: number, flags: number, prot: number, name: string): number {
    return this.mapBuffer(task, name, pages, { prot, flags: flags | MAP_ANONYMOUS });
  }

  address(range: PageRange, offset = 0): number {
    return range.buffer.start + (range.first + offset) * PAGE;
  }

  /** The entry that maps the first page of the range in the process. */
  entry(process: task_struct, range: PageRange, offset = 0): entry_view {
    return this.kernel.lookup(process, this.address(range, offset));
  }

  driver(): hmm_dmirror_module {
    if (!this.hmm)
      throw new Error('the HMM test driver is not loaded: add "Given the HMM test driver is loaded"');
    return this.hmm;
  }

  /**
   * One ioctl of lib/test_hmm.c on an open device file, as hmm-tests.c's
   * hmm_dmirror_cmd() issues it: the return value, and the command struct as
   * the driver left it (cpages, faults, and the bounce data in ptr).
   */
  dmirrorIoctl(
    d: dmirror,
    command: number,
    addr: number,
    npages: number,
    ptr: number[] = [],
  ): { ret: number; cmd: hmm_dmirror_cmd } {
    const cmd: hmm_dmirror_cmd = { addr, ptr, npages, cpages: 0, faults: 0 };
    return { ret: this.kernel.dmirror_ioctl(this.driver(), d, command, cmd), cmd };
  }

  /** The task's open file of a dmirror device, opened on first use (the mirror binds to the opener's mm). */
  mirror(device: number, task: task_struct): dmirror {
    const key = `${device}/${task.pid}`;
    let d = this.mirrors.get(key);
    if (!d) {
      d = this.kernel.dmirror_open(this.driver(), device, task);
      this.mirrors.set(key, d);
    }
    return d;
  }

  /** Kernel warnings (VM_WARN_ON) a Then-step claimed, by index in machine.warnings. */
  readonly claimedWarnings = new Set<number>();

  /** Claim the first unclaimed kernel warning raised in the given kernel function. */
  claimWarning(where: string): void {
    const i = this.kernel.machine.warnings.findIndex(
      (w, n) => w.where === where && !this.claimedWarnings.has(n),
    );
    if (i < 0) {
      const seen = this.kernel.machine.warnings.map((w) => w.where).join(', ') || 'none';
      throw new Error(`expected a kernel warning in ${where}; warnings seen: ${seen}`);
    }
    this.claimedWarnings.add(i);
  }

  /** Record an outcome that some Then-step must claim. */
  expectClaim(what: string, detail: string): void {
    this.outcomes.push({ what: spelled(what), detail: hexPfnText(detail), claimed: false });
  }

  /** Claim the most recent unclaimed outcome; its kind must match. */
  claim(claimed: string): Outcome {
    const what = spelled(claimed);
    const outcome = [...this.outcomes].reverse().find((o) => !o.claimed);
    // AssertionError: the reports file a wrong outcome as a failed expectation, not a harness error.
    if (!outcome)
      throw new AssertionError({
        message: `expected the last operation to end in ${what}, but every operation succeeded`,
      });
    if (outcome.what !== what)
      throw new AssertionError({
        message: `expected ${what}, but the last operation ended in ${outcome.what} (${outcome.detail})`,
      });
    outcome.claimed = true;
    return outcome;
  }

  /** The pmem device of a DAX scenario (fsdax or devdax mode), attached by the first Given that needs one. */
  pmem: pmem_device | null = null;
  /** The DAX filesystem mounted on the fsdax pmem device. */
  daxfs: daxfs | null = null;

  /** The DAX filesystem, on a new 8-page fsdax pmem device the first time a scenario asks for it. */
  daxFilesystem(): daxfs {
    if (!this.daxfs) {
      if (this.pmem) throw new Error(`the pmem device is in ${this.pmem.mode} mode, not fsdax`);
      this.pmem = this.kernel.pmem_attach('pmem0', 8, 'fsdax');
      this.daxfs = this.kernel.daxfs_mount(this.pmem);
    }
    return this.daxfs;
  }

  /** A file of the DAX filesystem, by name. */
  daxFile(name: string): address_space {
    const file = this.daxFilesystem().files.find((f) => f.name === name);
    if (!file) throw new Error(`no DAX file "${name}": add "Given a DAX file "${name}" of N pages, …"`);
    return file;
  }
}

setWorldConstructor(MmWorld);
