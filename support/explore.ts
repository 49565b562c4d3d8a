/**
 * What the explorer (scripts/explore.ts) needs from a step definition, and
 * the reference model it checks the engine against.
 *
 * A step offers itself to the explorer with a fourth argument to
 * support/vocabulary.ts's Given/When/Then: how to draw its parameters from
 * the model's state (`draw`), and what the step does to the model (`after`).
 * The explorer then runs the step's own text through Cucumber's own matching
 * and the step's own function, so a sequence it finds is a scenario already:
 *
 *   When('{process} unmaps {pages}', fn, c, {
 *     draw: (m, r) => { const p = m.someProcess(r); … return { args: [p.text, range.text], after: () => … } },
 *   });
 *
 * The model knows, for each process, each buffer and each page, what a load
 * must return (the data-integrity oracle): private anonymous pages are copied
 * at fork, shared ones and shared file pages are one object, a private file
 * page follows the file until the process writes it, MADV_DONTNEED zeroes a
 * private anonymous page and MADV_FREE leaves it either as it was or zero.
 * It knows the protections too, so it predicts SIGSEGV. It knows nothing of
 * the engine's page tables: it is the specification in its plainest form.
 *
 * No Cucumber import: the model and the draws are plain data.
 */
import type { MmWorld } from './world';

export const PROT_READ = 1;
export const PROT_WRITE = 2;

/** One object behind shared pages: a shared anonymous region (shmem) or a file's page cache. */
export interface MemObject {
  readonly id: string;
  readonly vals: number[];
}

/**
 * What one page of a process's buffer holds, for the model:
 * `own` (a private anonymous page, or a private file page the process wrote),
 * `obj` (a shared page, or a private file page not yet written: it follows
 * the file), or null (not mapped).
 */
export type Slot =
  | {
      own: number;
      /** after MADV_FREE: the old value, or 0 if reclaim took it */
      maybe0?: boolean;
      /** after a device write that failed part-way: the old value or the new one */
      unknown?: boolean;
    }
  | { obj: MemObject; idx: number; priv: boolean }
  /** The page is a hole of this buffer that a later mmap of the same process filled: that buffer's page. */
  | { alias: BufModel; idx: number }
  | null;

export type BufKind = 'private anonymous' | 'shared anonymous' | 'private file' | 'shared file';

export interface BufModel {
  readonly name: string;
  /** Its address in the process, as the engine placed it (an mmap may reuse a hole another buffer left). */
  start: number;
  readonly pages: number;
  readonly kind: BufKind;
  /** Advised MADV_HUGEPAGE at a 2 MiB boundary (a THP candidate). */
  readonly thp: boolean;
  /** The file a file mapping maps (a private file page MADV_DONTNEED dropped reads it again), or null. */
  readonly file: MemObject | null;
  readonly prot: number[];
  readonly slots: Slot[];
}

export interface ProcModel {
  readonly name: string;
  readonly bufs: Map<string, BufModel>;
}

/**
 * A page a process grabbed with GUP (FOLL_PIN, FOLL_GET): the process's own
 * private page (what it sees there, while `coherent`), or a page of a shared
 * object (a shared mapping, or a private file page not yet written, which a
 * later write copies away from).
 */
export interface PinModel {
  readonly proc: string;
  readonly buf: string;
  readonly page: number;
  /** The page it holds: the buffer and page the access reached (through an mmap that filled a hole). */
  readonly target: [BufModel, number];
  readonly obj: { obj: MemObject; idx: number } | null;
  /** Still the page the process maps there: no munmap, MADV_DONTNEED or MADV_FREE of it, no exit, since. */
  coherent: boolean;
}

/** A dmirror device the scenario's driver has, as the {device} parameter writes it. */
export interface DeviceModel {
  readonly text: string;
  readonly coherent: boolean;
}

/**
 * Deterministic choices from the numbers fast-check generated for one step.
 * Shrinking moves the numbers to 0, so the first choice of each list is the
 * simplest one: put the plainest option first.
 */
export class Draw {
  private i = 0;
  constructor(private readonly ns: readonly number[]) {}
  next(): number {
    const n = this.ns.length ? this.ns[this.i % this.ns.length] : 0;
    this.i++;
    return n;
  }
  /** 0 … n-1. */
  int(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
  one<T>(xs: readonly T[]): T | undefined {
    return xs.length ? xs[this.int(xs.length)] : undefined;
  }
  /** true in `percent` of draws (the number 0 says false: shrinking takes the plain path). */
  chance(percent: number): boolean {
    return this.next() % 100 >= 100 - percent;
  }
}

/** A page range of a buffer, and how a step writes it: `page 3 of buffer X`, `pages 0-1 of buffer X`, `buffer X`. */
export interface RangeModel {
  readonly buf: BufModel;
  readonly first: number;
  readonly count: number;
  readonly text: string;
}

export function rangeText(buf: BufModel, first: number, count: number): string {
  if (first === 0 && count === buf.pages) return `buffer ${buf.name}`;
  if (count === 1) return `page ${first} of buffer ${buf.name}`;
  return `pages ${first}-${first + count - 1} of buffer ${buf.name}`;
}

/** A Then-step the explorer adds after a step: it checks what the step saw against the model. */
export interface Check {
  readonly step: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface Drawn {
  /** The texts of the step's parameters, in order ("process A", "page 3 of buffer X"). */
  readonly args: string[];
  /** The outcome the model predicts ("SIGSEGV"), null for none; leave it out where the model cannot tell. */
  readonly predict?: string | null;
  /** The phrase that claims an errno this step ends in ("the command fails with {errno}"). */
  readonly claimErrno?: string;
  /** The model after the step, given the outcome it ended in (a signal, `errno -14`, or null); Then-steps to check. */
  after?(outcome: string | null, world: MmWorld): Check[] | undefined;
}

export interface Explore {
  /** How often, against the others (default 10). */
  readonly weight?: number;
  /** The parameters, drawn against the model, or null when the step cannot run in this state. */
  draw(m: Model, r: Draw): Drawn | null;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/** The explorer's model of every process's memory. */
export class Model {
  readonly procs = new Map<string, ProcModel>();
  readonly files = new Map<string, MemObject>();
  readonly pins: PinModel[] = [];
  readonly devices: DeviceModel[] = [];
  /** Every name a process has had (names are never reused: a step names a process once). */
  private readonly used = new Set<string>();
  private buffers = 0;
  private values = 0;
  private objects = 0;
  /** At most this many processes alive at once. */
  maxProcesses = 4;
  /** References a device driver took with folio_try_get and still holds. */
  driverRefs = 0;
  /** A device allocation was made to fail (HMM_DMIRROR_FLAG_FAIL_ALLOC): a fault may end in VM_FAULT_OOM. */
  injected = false;
  /** transparent_hugepage: a THP may back any anonymous mapping under `always`. */
  thp: 'always' | 'madvise' | 'never' = 'madvise';

  /** The next value a write stores: each write is distinct, so lost or crossed data shows. */
  value(): number {
    this.values++;
    return 0x100 + this.values;
  }

  procName(): string | null {
    for (const n of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
      if (!this.used.has(n)) {
        this.used.add(n);
        return n;
      }
    return null;
  }

  bufName(): string {
    this.buffers++;
    return `M${this.buffers}`;
  }

  fileName(): string {
    this.objects++;
    return `f${this.objects}`;
  }

  addProcess(name: string): ProcModel {
    this.used.add(name);
    const p: ProcModel = { name, bufs: new Map() };
    this.procs.set(name, p);
    return p;
  }

  /** A live process, drawn. */
  someProcess(r: Draw): ProcModel | undefined {
    return r.one([...this.procs.values()]);
  }

  /** A buffer of the process, drawn. */
  someBuffer(p: ProcModel, r: Draw): BufModel | undefined {
    return r.one([...p.bufs.values()]);
  }

  /** A live process, one of its buffers and a range of it, drawn; null when no process has a buffer. */
  somePlace(
    r: Draw,
    opts: { single?: boolean } = {},
  ): { p: ProcModel; buf: BufModel; range: RangeModel } | null {
    const p = this.someProcess(r);
    const buf = p && this.someBuffer(p, r);
    if (!p || !buf) return null;
    return { p, buf, range: this.someRange(buf, r, opts) };
  }

  /**
   * A page range of the buffer, biased to the paths that matter: one page
   * (the first, the last, another), the whole buffer, or two pages across a
   * boundary the earlier steps may have made.
   */
  someRange(buf: BufModel, r: Draw, opts: { single?: boolean } = {}): RangeModel {
    const n = buf.pages;
    const kinds = opts.single
      ? ['first', 'last', 'any']
      : ['first', 'whole', 'last', 'any', 'two', 'span', 'prefix', 'prefix'];
    const kind = r.one(kinds) ?? 'first';
    let first = 0;
    let count = 1;
    if (kind === 'last') first = n - 1;
    else if (kind === 'any') first = r.int(n);
    else if (kind === 'whole') count = n;
    else if (kind === 'two' && n > 1) {
      first = r.int(n - 1);
      count = 2;
    } else if (kind === 'prefix') {
      count = 1 + r.int(Math.min(n, 4));
    } else if (kind === 'span') {
      first = r.int(n);
      count = 1 + r.int(n - first);
    }
    return { buf, first, count, text: rangeText(buf, first, count) };
  }

  mapAnonymous(
    p: ProcModel,
    name: string,
    pages: number,
    shared: boolean,
    prot: number,
    thp: boolean,
  ): BufModel {
    const obj: MemObject | null = shared ? { id: `shmem:${name}`, vals: new Array(pages).fill(0) } : null;
    const buf: BufModel = {
      name,
      start: -1,
      pages,
      kind: shared ? 'shared anonymous' : 'private anonymous',
      thp,
      file: null,
      prot: new Array(pages).fill(prot),
      slots: Array.from({ length: pages }, (_, i) => (obj ? { obj, idx: i, priv: false } : { own: 0 })),
    };
    p.bufs.set(name, buf);
    return buf;
  }

  mapFile(p: ProcModel, name: string, file: MemObject, shared: boolean): BufModel {
    const buf: BufModel = {
      name,
      start: -1,
      pages: file.vals.length,
      kind: shared ? 'shared file' : 'private file',
      thp: false,
      file,
      prot: new Array(file.vals.length).fill(PROT_READ | PROT_WRITE),
      slots: file.vals.map((_, i) => ({ obj: file, idx: i, priv: !shared })),
    };
    p.bufs.set(name, buf);
    return buf;
  }

  /** The buffer and page an access of this page reaches: itself, or the buffer an mmap put into its hole. */
  resolve(buf: BufModel, i: number): [BufModel, number] {
    let b = buf;
    let at = i;
    for (let s = b.slots[at]; s && 'alias' in s; s = b.slots[at]) [b, at] = [s.alias, s.idx];
    return [b, at];
  }

  /** What a load of the page must return, or null when it may return more than one value (MADV_FREE). */
  expected(buf: BufModel, i: number): number | null {
    const [b, at] = this.resolve(buf, i);
    const s = b.slots[at];
    if (!s || 'alias' in s) return null;
    if ('own' in s) return s.unknown || (s.maybe0 && s.own !== 0) ? null : s.own;
    const v = s.obj.vals[s.idx];
    return Number.isNaN(v) ? null : v;
  }

  /** Whether the page is mapped (through an mmap that filled its hole, if one did). */
  mapped(buf: BufModel, i: number): boolean {
    const [b, at] = this.resolve(buf, i);
    return b.slots[at] !== null;
  }

  /** Whether an access of the page faults (SIGSEGV): not mapped, or not permitted. */
  faults(buf: BufModel, i: number, write: boolean): boolean {
    const [b, at] = this.resolve(buf, i);
    if (!b.slots[at]) return true;
    const prot = b.prot[at];
    return write ? !(prot & PROT_WRITE) : !(prot & PROT_READ);
  }

  /** A CPU or device store to the page. */
  store(buf: BufModel, i: number, v: number): void {
    const [b, at] = this.resolve(buf, i);
    const s = b.slots[at];
    if (!s || 'alias' in s) return;
    if ('own' in s || s.priv) b.slots[at] = { own: v };
    else s.obj.vals[s.idx] = v;
  }

  /** A store that may or may not have happened (a device write that failed part-way). */
  forget(buf: BufModel, i: number): void {
    const [b, at] = this.resolve(buf, i);
    const s = b.slots[at];
    if (!s || 'alias' in s) return;
    if ('own' in s) s.unknown = true;
    else if (s.priv) b.slots[at] = { own: 0, unknown: true };
    else s.obj.vals[s.idx] = Number.NaN;
  }

  /** An mmap placed the buffer at `start`: holes of the process's other buffers there are now its pages. */
  placed(p: ProcModel, buf: BufModel, start: number): void {
    buf.start = start;
    const end = start + buf.pages * 4096;
    for (const o of p.bufs.values()) {
      if (o === buf) continue;
      for (let i = 0; i < o.pages; i++) {
        const addr = o.start + i * 4096;
        if (o.slots[i] === null && addr >= start && addr < end)
          o.slots[i] = { alias: buf, idx: (addr - start) / 4096 };
      }
    }
  }

  /** The first page of the range whose access faults, or -1. */
  firstFault(range: RangeModel, write: boolean): number {
    for (let i = 0; i < range.count; i++) if (this.faults(range.buf, range.first + i, write)) return i;
    return -1;
  }

  /** A pin of the page: coherent when the model knows what it holds (a page the process wrote, or a shared one). */
  pin(p: ProcModel, from: BufModel, page: number, write: boolean, longterm: boolean): void {
    const [buf, i] = this.resolve(from, page);
    let s = buf.slots[i];
    if (!s || 'alias' in s) return;
    /*
     * A write pin of a private file page breaks CoW first (FOLL_WRITE faults),
     * and so does a long-term R/O pin (gup_must_unshare: a non-anonymous page
     * in a COW mapping): the pin holds the process's own copy.
     */
    if ('obj' in s && s.priv && (write || longterm)) s = buf.slots[i] = { own: s.obj.vals[s.idx] };
    /* The pin is named as the step named it (the World keys what it grabbed so); it holds the page the access reached. */
    const named = { proc: p.name, buf: from.name, page };
    if ('obj' in s) {
      this.pins.push({ ...named, target: [buf, i], obj: { obj: s.obj, idx: s.idx }, coherent: true });
      return;
    }
    /*
     * An unwritten private page may be the shared zero page, which a short-term
     * R/O pin may hold while a later write copies away; a write pin faults in a
     * page of its own, and a long-term one unshares the zero page too.
     */
    const known = !s.maybe0 && !s.unknown && (s.own !== 0 || write || longterm);
    this.pins.push({ ...named, target: [buf, i], obj: null, coherent: known });
  }

  /** What the pinned page holds, or null when the model cannot tell. */
  pinned(pin: PinModel): number | null {
    if (pin.obj) {
      const v = pin.obj.obj.vals[pin.obj.idx];
      return Number.isNaN(v) ? null : v;
    }
    if (!pin.coherent || !this.procs.has(pin.proc)) return null;
    return this.expected(pin.target[0], pin.target[1]);
  }

  /** The pins on pages of the range stop being the page mapped there. */
  private invalidatePins(proc: string, range: RangeModel): void {
    for (const pin of this.pins)
      if (
        pin.proc === proc &&
        pin.target[0] === range.buf &&
        pin.target[1] >= range.first &&
        pin.target[1] < range.first + range.count
      )
        pin.coherent = false;
  }

  /** Each page of the range as the access reaches it, with a range of one page for the pins. */
  private *pages(range: RangeModel): Generator<[BufModel, number]> {
    for (let i = 0; i < range.count; i++) yield this.resolve(range.buf, range.first + i);
  }

  unmap(p: ProcModel, range: RangeModel): void {
    for (const [b, at] of this.pages(range)) {
      b.slots[at] = null;
      this.invalidatePins(p.name, { buf: b, first: at, count: 1, text: '' });
    }
  }

  protect(range: RangeModel, prot: number): void {
    for (const [b, at] of this.pages(range)) b.prot[at] = prot;
  }

  /** MADV_DONTNEED over the mapped pages of the range (the kernel applies it to what is mapped, and says -ENOMEM for a hole). */
  dontneed(p: ProcModel, range: RangeModel): void {
    for (const [b, at] of this.pages(range)) {
      const s = b.slots[at];
      if (!s || 'alias' in s) continue;
      if ('own' in s) b.slots[at] = b.file ? { obj: b.file, idx: at, priv: true } : { own: 0 };
      if (b.kind.startsWith('private'))
        this.invalidatePins(p.name, { buf: b, first: at, count: 1, text: '' });
    }
  }

  /** MADV_FREE of private anonymous pages: each keeps its data or reads 0, until the next store. */
  free(p: ProcModel, range: RangeModel): void {
    for (const [b, at] of this.pages(range)) {
      const s = b.slots[at];
      if (b.kind !== 'private anonymous' || !s || !('own' in s)) continue;
      if (s.own !== 0) s.maybe0 = true;
      this.invalidatePins(p.name, { buf: b, first: at, count: 1, text: '' });
    }
  }

  fork(parent: ProcModel, child: string): ProcModel {
    const c = this.addProcess(child);
    for (const b of parent.bufs.values())
      c.bufs.set(b.name, {
        ...b,
        prot: [...b.prot],
        slots: b.slots.map((s) => (s && 'own' in s ? { ...s } : s)),
      });
    /* A hole another buffer fills points at the child's copy of that buffer. */
    for (const b of c.bufs.values())
      b.slots.forEach((s, i) => {
        if (s && 'alias' in s) b.slots[i] = { alias: c.bufs.get(s.alias.name) ?? s.alias, idx: s.idx };
      });
    return c;
  }

  exit(p: ProcModel): void {
    this.procs.delete(p.name);
    for (const pin of this.pins) if (pin.proc === p.name) pin.coherent = false;
  }

  /** What the model expects for each value read over the range, and the first that differs; null when none does. */
  mismatch(range: RangeModel, got: readonly number[]): { want: (number | null)[]; bad: number } | null {
    const want = got.map((_, i) => this.expected(range.buf, range.first + i));
    const bad = got.findIndex((v, i) => want[i] !== null && want[i] !== v);
    return bad < 0 ? null : { want, bad };
  }

  /**
   * Checks of what a process read, against the model: `process A read 0x…`
   * where the model expects one value over the range, else the first page
   * that differs, as `page 3 of buffer X in process A holds 0x…`.
   */
  checkRead(p: ProcModel, range: RangeModel, got: readonly number[]): Check[] {
    const miss = this.mismatch(range, got);
    if (!miss) return [];
    const { want, bad } = miss;
    const detail = `process ${p.name} read ${hex(got[bad])} from page ${range.first + bad} of buffer ${range.buf.name}, where the model says ${hex(want[bad] as number)}`;
    if (want.every((w) => w === want[0]))
      return [{ step: `process ${p.name} read ${hex(want[0] as number)}`, ok: false, detail }];
    return [
      {
        step: `page ${range.first + bad} of buffer ${range.buf.name} in process ${p.name} holds ${hex(want[bad] as number)}`,
        ok: false,
        detail,
      },
    ];
  }
}

/** The size parameter's text: `1 page`, `8 pages`, `2 MiB`. */
export const sizeText = (pages: number): string =>
  pages % 256 === 0 ? `${pages / 256} MiB` : `${pages} page${pages === 1 ? '' : 's'}`;
