import { expect } from 'chai';
import { EngineUsageError, KernelInvariantViolation } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { Given, Then, type Translator, When } from '../support/vocabulary';
import type { MmWorld, PageRange } from '../support/world';

/** These steps drive split_huge_pmd, the THP split and the rmap walk from inside the kernel, step by step. */
const IN_KERNEL = (c: Translator) =>
  c.cannot('a step inside the kernel (a THP split stopped half-way, an rmap walk, a driver reference)');

/** Where a folio split may be stopped: `When the next THP split stops at the freeze`. */
type Phase = 'unmap' | 'freeze' | 'split' | 'remap';
const PHASES: Record<string, Phase> = { unmap: 'unmap', freeze: 'freeze', split: 'split', remap: 'remap' };

const driverRefs = new WeakMap<MmWorld, number[]>();
const splitResults = new WeakMap<MmWorld, number>();

function pageOf(world: MmWorld, task: task_struct, range: PageRange): number {
  const e = world.entry(task, range);
  expect(
    e.page,
    `page ${range.first} of buffer ${range.buffer.name} in ${task.comm} maps a page`,
  ).to.be.at.least(0);
  return e.page;
}

/** Run an engine call that may trip a debug_vm invariant; a tripped one is an outcome a Then-step must claim. */
function expectingInvariant(world: MmWorld, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof KernelInvariantViolation)) throw err;
    world.expectClaim(`spec violated: ${err.rule}`, err.message);
  }
}

Given(
  'device-private THPs are split as the v2 patch did',
  function (this: MmWorld) {
    this.kernel.select_device_private_split('v2');
  },
  (c) => c.cannot('the v2 patch of the device-private THP split series', 'variant'),
);

Given(
  'the next THP split stops at the {word}',
  function (this: MmWorld, phase: string) {
    if (!PHASES[phase])
      throw new Error(`no split phase "${phase}"; phases: ${Object.keys(PHASES).join(', ')}`);
    this.kernel.pause_next_split(PHASES[phase]);
  },
  IN_KERNEL,
);

When(
  'the kernel splits the PMD of {pages} in {process}',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    this.kernel.split_huge_pmd(task, this.address(range));
  },
  IN_KERNEL,
  {
    weight: 3,
    draw(m, r) {
      const p = m.someProcess(r);
      const buf = p && r.one([...p.bufs.values()].filter((b) => b.thp));
      if (!p || !buf) return null;
      return { args: [m.someRange(buf, r, { single: true }).text, `process ${p.name}`], predict: null };
    },
  },
);

When(
  'the kernel splits the THP behind {pages} in {process}',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    splitResults.set(this, this.kernel.split_folio(pageOf(this, task, range)));
  },
  IN_KERNEL,
);

When(
  'the split continues',
  function (this: MmWorld) {
    const r = this.kernel.continue_split();
    expect(r.phase, 'the split ran to its end').to.equal('done');
    splitResults.set(this, r.ret);
  },
  IN_KERNEL,
);

Then(
  'the split fails with {errno}',
  function (this: MmWorld, errno: number) {
    expect(splitResults.get(this), 'the split returned').to.equal(errno);
  },
  IN_KERNEL,
);

Then(
  'the split succeeds',
  function (this: MmWorld) {
    expect(splitResults.get(this), 'the split returned').to.equal(0);
  },
  IN_KERNEL,
);

When(
  'the device driver takes a reference to the THP behind {pages} in {process}',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    const e = this.entry(task, range);
    /* A page must be there to take a reference to: asking for one where nothing is mapped is a wrong scenario. */
    if (e.page < 0)
      throw new EngineUsageError(
        'nothing mapped',
        `page ${range.first} of buffer ${range.buffer.name} in ${task.comm} maps no page to take a reference to`,
      );
    const page = e.page;
    if (this.kernel.folio_try_get(page)) driverRefs.set(this, [...(driverRefs.get(this) ?? []), page]);
    else this.expectClaim('reference refused', `folio_try_get of pfn ${page}: the refcount is frozen`);
  },
  IN_KERNEL,
  {
    weight: 3,
    draw(m, r) {
      const p = m.someProcess(r);
      const buf = p && r.one([...p.bufs.values()].filter((b) => b.thp));
      if (!p || !buf) return null;
      return {
        args: [m.someRange(buf, r, { single: true }).text, `process ${p.name}`],
        after: (outcome) => {
          if (outcome === null) m.driverRefs++;
          return undefined;
        },
      };
    },
  },
);

Then(
  'the reference is refused, because the refcount is frozen',
  function (this: MmWorld) {
    this.claim('reference refused');
  },
  IN_KERNEL,
);

When(
  'the device driver drops its reference',
  function (this: MmWorld) {
    const refs = driverRefs.get(this) ?? [];
    const page = refs.pop();
    if (page === undefined) throw new Error('the device driver holds no reference');
    expectingInvariant(this, () => this.kernel.folio_put(page));
  },
  IN_KERNEL,
  {
    weight: 3,
    draw: (m) =>
      m.driverRefs > 0
        ? {
            args: [],
            predict: null,
            after: () => {
              m.driverRefs--;
              return undefined;
            },
          }
        : null,
  },
);

/* Every invariant of engine/mm/debug_vm.ts, checked now: the Then-step of a reproducer whose oracle was debug_vm. */
Then(
  'debug_vm finds every invariant holding',
  function (this: MmWorld) {
    this.kernel.check();
  },
  (c) =>
    c.notObservable(
      "the engine's debug_vm invariants; the guest's kernel, built with CONFIG_DEBUG_VM, checks its own and its log is compared",
    ),
);

Then(
  'debug_vm reports {string}',
  function (this: MmWorld, rule: string) {
    this.claim(`spec violated: ${rule}`);
  },
  IN_KERNEL,
);

When(
  'a kernel path takes pmd_pfn\\() of {pages} in {process}',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    expectingInvariant(this, () => {
      this.lastRead.set('pmd_pfn', [this.kernel.pmd_pfn_at(task, this.address(range))]);
    });
  },
  IN_KERNEL,
);

Then(
  'the THP behind {pages} in {process} is in small folios',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    for (let i = 0; i < range.count; i++) {
      const e = this.entry(task, range, i);
      if (e.page < 0) continue;
      expect(this.kernel.folio(e.page).order, `order of the folio behind page ${range.first + i}`).to.equal(
        0,
      );
    }
  },
  IN_KERNEL,
);

Then(
  'page idle tracking sees {int} mapping(s) of the THP behind {pages} in {process}',
  function (this: MmWorld, n: number, range: PageRange, task: task_struct) {
    expect(
      this.kernel.folio_referenced(pageOf(this, task, range)),
      'mappings folio_referenced walked',
    ).to.equal(n);
  },
  IN_KERNEL,
);

Then(
  'the rmap walk finds the THP behind {pages} in {process} mapped by {int} PMD(s) and {int} PTE(s)',
  function (this: MmWorld, range: PageRange, task: task_struct, pmd: number, pte: number) {
    expect(
      this.kernel.rmap_mappings(pageOf(this, task, range)),
      'the mappings rmap_walk finds',
    ).to.deep.equal({ pmd, pte });
  },
  IN_KERNEL,
);

/**
 * Where remove_migration_pmd's CONFIG_DEBUG_VM check reads the write bit of
 * a restored device-private PMD (MachineConfig.device_private_pmd_write_check):
 * "of the swap PMD, as 7.x does", where x86 keeps the soft-dirty bit, or "of
 * the present PMD, before the conversion", a design no released kernel has.
 */
Given(
  'remove_migration_pmd checks the write bit {}',
  function (this: MmWorld, design: string) {
    const designs: Record<string, 'swap-pmd' | 'present-pmd'> = {
      'of the swap PMD, as 7.x does': 'swap-pmd',
      'of the present PMD, before the conversion': 'present-pmd',
    };
    const d = designs[design];
    if (!d)
      throw new Error(
        `"${design}": write "of the swap PMD, as 7.x does" or "of the present PMD, before the conversion"`,
      );
    this.kernel.select_device_private_pmd_write_check(d);
  },
  (c, design) =>
    design === 'of the swap PMD, as 7.x does'
      ? c.run(0, '/* the kernel as released (CONFIG_DEBUG_VM=y in kernel/hmm.config) */;')
      : c.cannot('a DEBUG_VM check no released kernel makes (a proposed design)', 'variant'),
);

/**
 * How device migration collects a THP that another mm maps after fork
 * (MachineConfig.shared_thp_migration): "7.x does not" split it (one
 * compound entry, the bug of docs/upstream/shared-thp-migration.md), or
 * "kernel/patches/0001 proposes" splitting it first. On the real kernel the
 * patched design needs `npm run kernel -- --patched`; the scenario says so
 * with its @kernel-needs-patch tag.
 */
Given(
  'device migration splits a THP another process maps, as {}',
  function (this: MmWorld, design: string) {
    const designs: Record<string, 'compound' | 'split-shared'> = {
      '7.x does not': 'compound',
      'kernel/patches/0001 proposes': 'split-shared',
    };
    const d = designs[design];
    if (!d) throw new Error(`"${design}": write "7.x does not" or "kernel/patches/0001 proposes"`);
    this.kernel.select_shared_thp_migration(d);
  },
  (c, design) =>
    c.run(
      0,
      design === '7.x does not'
        ? '/* the kernel as released */;'
        : '/* kernel/patches/0001: the guest kernel must be built with --patched */;',
    ),
);
