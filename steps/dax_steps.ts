import { expect } from 'chai';
import { KernelInvariantViolation, mm } from '../engine';
import type { pmem_device } from '../engine/fs/dax';
import type { task_struct } from '../engine/include/linux/mm_types';
import type { PteKind } from '../support/parameter_types';
import { Given, Then, type Translator, When } from '../support/vocabulary';
import type { MmWorld, PageRange } from '../support/world';

/** The guest has no pmem device: its memmap=! range is the coherent devices' memory (scripts/lib/kernel/guest.ts). */
const NO_PMEM = (c: Translator) => c.cannot('the guest has no pmem device, so no FS-DAX or device-DAX');

function pmemOf(world: MmWorld): pmem_device {
  if (!world.pmem) throw new Error('no pmem device: add a DAX file or a device-DAX device first');
  return world.pmem;
}

function namedPfn(world: MmWorld, name: string): number {
  const pfn = world.namedPages.get(name);
  if (pfn === undefined) throw new Error(`no page was called "${name}"`);
  return pfn;
}

Given(
  'the kernel uses the {devmap_design} devmap refcount design',
  function (this: MmWorld, design: 'old' | 'fixed') {
    this.kernel.select_devmap_design(design);
  },
  (c, design) => c.cannot(`the ${design} devmap refcount design of seed 003`, 'variant'),
);

Given(
  'FS-DAX device removal waits for pages still in use, as the October 2021 thread proposed',
  function (this: MmWorld) {
    this.kernel.select_fsdax_removal('wait');
  },
  (c) => c.cannot('the waiting FS-DAX removal the October 2021 thread proposed', 'variant'),
);

Given(
  'a DAX file {string} of {int} pages, page i holding {value} + i',
  function (this: MmWorld, name: string, pages: number, base: number) {
    this.kernel.daxfs_create(
      this.daxFilesystem(),
      name,
      pages,
      Array.from({ length: pages }, (_, i) => base + i),
    );
  },
  NO_PMEM,
);

Given(
  'the DAX filesystem is told before its device goes away',
  function (this: MmWorld) {
    this.kernel.daxfs_register_holder(this.daxFilesystem());
  },
  NO_PMEM,
);

Given(
  'a pmem device of {int} pages in device-DAX mode',
  function (this: MmWorld, pages: number) {
    if (this.pmem) throw new Error('this scenario already has a pmem device');
    this.pmem = this.kernel.pmem_attach('dax0', pages, 'devdax');
  },
  NO_PMEM,
);

Given(
  '{process} maps the device-DAX device as buffer {word}',
  function (this: MmWorld, task: task_struct, name: string) {
    const file = this.kernel.devdax_open(pmemOf(this));
    const pages = this.kernel.dax_file(file).pages;
    this.mapBuffer(task, name, pages, { prot: mm.PROT_READ | mm.PROT_WRITE, flags: mm.MAP_SHARED, file });
  },
  NO_PMEM,
);

Given(
  'the page holding block {int} of file {string} is called {string}',
  function (this: MmWorld, block: number, file: string, name: string) {
    const pfn = this.kernel.dax_file(this.daxFile(file)).blocks[block];
    expect(pfn, `block ${block} of file "${file}"`).to.be.at.least(0);
    this.namedPages.set(name, pfn);
  },
  NO_PMEM,
);

When(
  'the pmem device is removed',
  function (this: MmWorld) {
    const pmem = pmemOf(this);
    try {
      if (!this.kernel.pmem_remove(pmem))
        this.expectClaim('device removal waiting', `memunmap_pages of ${pmem.name} waits for its pages`);
    } catch (err) {
      if (!(err instanceof KernelInvariantViolation)) throw err;
      this.expectClaim(`spec violated: ${err.rule}`, err.message);
    }
  },
  NO_PMEM,
);

Then(
  'the device removal waits for pages still in use',
  function (this: MmWorld) {
    this.claim('device removal waiting');
    expect(this.kernel.dax_state(pmemOf(this)).removal, 'memunmap_pages').to.equal('pending');
  },
  NO_PMEM,
);

Then(
  'the device removal has completed',
  function (this: MmWorld) {
    expect(this.kernel.dax_state(pmemOf(this)).removal, 'memunmap_pages').to.equal('completed');
  },
  NO_PMEM,
);

Then(
  'the debug checks report {string}',
  function (this: MmWorld, rule: string) {
    this.claim(`spec violated: ${rule}`);
  },
  NO_PMEM,
);

Then(
  'the filesystem was told the device is going away',
  function (this: MmWorld) {
    expect(this.kernel.dax_state(pmemOf(this)).notifications, 'MF_MEM_PRE_REMOVE notifications').to.equal(1);
  },
  NO_PMEM,
);

Then(
  /^the filesystem (was told once|was never told) that the page went idle$/,
  function (this: MmWorld, told: string) {
    expect(this.kernel.dax_state(pmemOf(this)).idle_wakeups, 'idle-page wakeups').to.equal(
      told === 'was told once' ? 1 : 0,
    );
  },
  NO_PMEM,
);

Then(
  'page {string} holds {value}',
  function (this: MmWorld, name: string, value: number) {
    expect(
      `0x${this.kernel.page(namedPfn(this, name)).data.toString(16)}`,
      `contents of page "${name}"`,
    ).to.equal(`0x${value.toString(16)}`);
  },
  NO_PMEM,
);

When(
  'file {string} is truncated to {int} page(s)',
  function (this: MmWorld, name: string, pages: number) {
    if (!this.kernel.dax_truncate(this.daxFilesystem(), this.daxFile(name), pages))
      this.expectClaim('waiting for a busy DAX page', `truncate of "${name}" to ${pages} pages`);
  },
  NO_PMEM,
);

When(
  'a hole is punched over page {int} of file {string}',
  function (this: MmWorld, page: number, name: string) {
    if (!this.kernel.dax_punch_hole(this.daxFilesystem(), this.daxFile(name), page, 1))
      this.expectClaim('waiting for a busy DAX page', `hole punch of page ${page} of "${name}"`);
  },
  NO_PMEM,
);

Then(
  'the filesystem waits for the busy page',
  function (this: MmWorld) {
    this.claim('waiting for a busy DAX page');
  },
  NO_PMEM,
);

Then(
  'file {string} has {int} page(s)',
  function (this: MmWorld, name: string, pages: number) {
    expect(this.kernel.dax_file(this.daxFile(name)).pages, `size of "${name}"`).to.equal(pages);
  },
  NO_PMEM,
);

Then(
  'page {int} of file {string} is a hole',
  function (this: MmWorld, block: number, name: string) {
    expect(this.kernel.dax_file(this.daxFile(name)).blocks[block], `block ${block} of "${name}"`).to.equal(
      -1,
    );
  },
  NO_PMEM,
);

Then(
  'page {string} is still block {int} of file {string}',
  function (this: MmWorld, page: string, block: number, name: string) {
    expect(this.kernel.dax_file(this.daxFile(name)).blocks[block], `block ${block} of "${name}"`).to.equal(
      namedPfn(this, page),
    );
  },
  NO_PMEM,
);

Then(
  "page {string} is back in the filesystem's free space",
  function (this: MmWorld, page: string) {
    expect(this.kernel.dax_state(pmemOf(this)).free_blocks, 'free blocks').to.include(namedPfn(this, page));
  },
  NO_PMEM,
);

Then(
  'the PTE of {pages} in {process} is {pte_kind}',
  function (this: MmWorld, range: PageRange, task: task_struct, kind: PteKind) {
    for (let i = 0; i < range.count; i++) {
      const e = this.entry(task, range, i);
      expect(e.kind === 'present' || e.kind === 'zero page', `page ${range.first + i} is mapped`).to.equal(
        true,
      );
      const seen: PteKind = e.devmap ? 'a special devmap PTE' : e.special ? 'a special PTE' : 'a normal PTE';
      expect(seen, `PTE of page ${range.first + i}`).to.equal(kind);
    }
  },
  NO_PMEM,
);

Then(
  'the mm sees no page behind {pages} in {process}',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    expect(this.kernel.normal_page(task, this.address(range)), 'the page vm_normal_page finds').to.equal(-1);
  },
  NO_PMEM,
);

Then(
  'the mm sees the mapped page behind {pages} in {process}',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    const e = this.entry(task, range);
    expect(e.page, `page ${range.first} is mapped`).to.be.at.least(0);
    expect(this.kernel.normal_page(task, this.address(range)), 'the page vm_normal_page finds').to.equal(
      e.page,
    );
  },
  NO_PMEM,
);

Then(
  'the VMA of buffer {word} in {process} is not VM_MIXEDMAP',
  function (this: MmWorld, name: string, task: task_struct) {
    const vma = this.kernel.vma_at(task, this.buffer(name).start);
    if (!vma) throw new Error(`buffer ${name} is not mapped in ${task.comm}`);
    expect(vma.flags & mm.VM_MIXEDMAP, 'VM_MIXEDMAP').to.equal(0);
  },
  NO_PMEM,
);
