import { expect } from 'chai';
import { KernelInvariantViolation, mm, test_hmm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cRange, errnoName, folded, hex, visibleMemory } from '../support/c';
import type { Check, Draw, Drawn, Model, RangeModel } from '../support/explore';
import { DMIRROR_IOCTLS } from '../support/parameter_types';
import { Given, Then, type Translator, When } from '../support/vocabulary';
import { type MmWorld, PAGE, type PageRange } from '../support/world';
import { cIoctl } from './hmm_tests_steps';

/** The same ioctl on the kernel, on the process's own open /dev/hmm_dmirror<device>. */
const cDevice = (c: Translator, device: number, task: task_struct, name: string, range: PageRange): void =>
  c.run(task, `mm_dmirror(${device}, ${cIoctl(name)}, ${cRange(c, range)});`);

function ioctl(
  world: MmWorld,
  device: number,
  task: task_struct,
  name: string,
  range: PageRange,
  ptr: number[] = [],
) {
  const d = world.mirror(device, task);
  let r: ReturnType<MmWorld['dmirrorIoctl']>;
  try {
    r = world.dmirrorIoctl(d, DMIRROR_IOCTLS[name], world.address(range), range.count, ptr);
  } catch (err) {
    /* A broken kernel rule is an outcome a Then-step claims ("debug_vm reports …"), as for the kernel's own reads. */
    if (!(err instanceof KernelInvariantViolation)) throw err;
    world.expectClaim(`spec violated: ${err.rule}`, err.message);
    return;
  }
  const { ret, cmd } = r;
  world.lastCommand = { name, ret, cmd };
  if (ret !== 0) world.expectClaim(`errno ${ret}`, `HMM_DMIRROR_${name} on /dev/hmm_dmirror${device}`);
}

/**
 * The explorer's device command: a device of the loaded driver, on a range
 * of a buffer of a process; `then` makes the model follow what it did.
 */
function drawDevice(
  m: Model,
  r: Draw,
  then: (range: RangeModel, outcome: string | null, world: MmWorld) => Check[] | undefined = () => undefined,
  value?: number,
): Drawn | null {
  const device = r.one(m.devices);
  const p = m.someProcess(r);
  const buf = p && m.someBuffer(p, r);
  if (!device || !p || !buf) return null;
  const range = m.someRange(buf, r);
  return {
    args:
      value === undefined
        ? [device.text, range.text, `process ${p.name}`]
        : [device.text, `0x${value.toString(16)}`, range.text, `process ${p.name}`],
    claimErrno: 'the command fails with {errno}',
    after: (outcome, world) => then(range, outcome, world),
  };
}

Given(
  'the HMM test driver is loaded',
  function (this: MmWorld) {
    this.hmm = this.kernel.load_hmm_dmirror({ coherent: false });
  },
  (c) => c.run(0, '/* lib/test_hmm.c is built in: devices 0 and 1 */;'),
);

Given(
  'the HMM test driver is loaded with device-coherent memory',
  function (this: MmWorld) {
    this.hmm = this.kernel.load_hmm_dmirror({ coherent: true });
  },
  (c) => c.run(0, '/* lib/test_hmm.c is built in, with spm_addr_dev0/1: devices 2 and 3 */;'),
);

Given(
  '{device} maps read faults read-only',
  function (this: MmWorld, device: number) {
    this.driver().devices[device].fault_policy = 'read-only on read faults';
  },
  (c) => c.cannot("the engine's model of a driver's fault policy; lib/test_hmm.c has one policy", true),
);

Given(
  '{device} maps every fault writable',
  function (this: MmWorld, device: number) {
    this.driver().devices[device].fault_policy = 'write on every fault';
  },
  (c) => c.cannot("the engine's model of a driver's fault policy; lib/test_hmm.c has one policy", true),
);

When(
  '{device} migrates {pages} of {process} to device memory',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'MIGRATE_TO_DEV', range);
  },
  (c, device, range, task) => cDevice(c, device, task, 'MIGRATE_TO_DEV', range),
  { weight: 10, draw: (m, r) => drawDevice(m, r) },
);

When(
  '{device} migrates {pages} of {process} back to system memory',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'MIGRATE_TO_SYS', range);
  },
  (c, device, range, task) => cDevice(c, device, task, 'MIGRATE_TO_SYS', range),
  { weight: 6, draw: (m, r) => drawDevice(m, r) },
);

When(
  '{device} reads {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'READ', range);
  },
  (c, device, range, task) => cDevice(c, device, task, 'READ', range),
  {
    weight: 6,
    draw: (m, r) =>
      drawDevice(m, r, (range, outcome, world) => {
        const cmd = world.lastCommand;
        if (outcome !== null || !cmd) return undefined;
        const miss = m.mismatch(range, cmd.cmd.ptr);
        if (!miss?.want.every((w) => w === miss.want[0])) return undefined;
        const { want, bad } = miss;
        const hex = (v: number) => `0x${v.toString(16)}`;
        return [
          {
            step: `the device saw ${hex(want[0] as number)} in every page`,
            ok: false,
            detail: `the device read ${hex(cmd.cmd.ptr[bad])} from page ${range.first + bad} of buffer ${range.buf.name}, where the model says ${hex(want[bad] as number)}`,
          },
        ];
      }),
  },
);

When(
  '{device} reads {pages} of {process} {int} times',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct, times: number) {
    for (let i = 0; i < times; i++) ioctl(this, device, task, 'READ', range);
  },
  (c, device, range, task, times) => {
    for (let i = 0; i < times; i++) cDevice(c, device, task, 'READ', range);
  },
);

Given(
  "{process} maps {size} of {device}'s file as buffer {word}",
  function (this: MmWorld, task: task_struct, pages: number, device: number, name: string) {
    const file = this.kernel.dmirror_file(this.driver(), device, pages);
    this.mapBuffer(task, name, pages, { prot: mm.PROT_READ | mm.PROT_WRITE, flags: mm.MAP_SHARED, file });
  },
  (c) => c.cannot("the engine's device file mapping; /dev/hmm_dmirror has no mmap"),
);

When(
  '{device} writes {value} to {pages} of {process}',
  function (this: MmWorld, device: number, value: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'WRITE', range, new Array(range.count).fill(value));
  },
  (c, device, value, range, task) =>
    c.run(task, `mm_dmirror_write_value(${device}, ${cRange(c, range)}, ${hex(value)}u);`),
  {
    weight: 6,
    draw(m, r) {
      const value = m.value();
      return drawDevice(
        m,
        r,
        (range, outcome) => {
          if (outcome === null)
            for (let i = 0; i < range.count; i++) m.store(range.buf, range.first + i, value);
          /* dmirror_write writes the pages the device already mirrors, in order, until one it must fault in; a failed fault ends it. */ else
            for (let i = 0; i < range.count && !m.faults(range.buf, range.first + i, true); i++)
              m.forget(range.buf, range.first + i);
          return undefined;
        },
        value,
      );
    },
  },
);

When(
  '{device} takes a snapshot of {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'SNAPSHOT', range);
  },
  (c, device, range, task) => cDevice(c, device, task, 'SNAPSHOT', range),
);

When(
  '{device} takes exclusive access to {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'EXCLUSIVE', range);
  },
  (c, device, range, task) => cDevice(c, device, task, 'EXCLUSIVE', range),
  { weight: 4, draw: (m, r) => drawDevice(m, r) },
);

Then(
  '{device} still holds exclusive access to {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    const d = this.mirror(device, task);
    const { ret } = this.dmirrorIoctl(
      d,
      test_hmm.HMM_DMIRROR_CHECK_EXCLUSIVE,
      this.address(range),
      range.count,
    );
    expect(ret, 'CHECK_EXCLUSIVE').to.equal(-mm.EPERM);
  },
  (c, device, range, task) => {
    cDevice(c, device, task, 'CHECK_EXCLUSIVE', range);
    c.observe(task, 'mm_obs_cmd(0, 0);', { ret: '-EPERM' });
  },
);

Then(
  '{device} no longer holds exclusive access to {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    const d = this.mirror(device, task);
    const { ret } = this.dmirrorIoctl(
      d,
      test_hmm.HMM_DMIRROR_CHECK_EXCLUSIVE,
      this.address(range),
      range.count,
    );
    expect(ret, 'CHECK_EXCLUSIVE').to.equal(0);
  },
  (c, device, range, task) => {
    cDevice(c, device, task, 'CHECK_EXCLUSIVE', range);
    c.observe(task, 'mm_obs_cmd(0, 0);', { ret: '0' });
  },
);

Given(
  'the next allocation of {device} for {process} fails',
  function (this: MmWorld, device: number, task: task_struct) {
    const d = this.mirror(device, task);
    const { ret } = this.dmirrorIoctl(d, test_hmm.HMM_DMIRROR_FLAGS, 0, test_hmm.HMM_DMIRROR_FLAG_FAIL_ALLOC);
    expect(ret, 'HMM_DMIRROR_FLAGS').to.equal(0);
  },
  (c, device, task) => c.run(task, `mm_dmirror_flags(${device}, -1, HMM_DMIRROR_FLAG_FAIL_ALLOC);`),
  {
    weight: 2,
    draw(m, r) {
      const device = r.one(m.devices);
      const p = m.someProcess(r);
      if (!device || !p) return null;
      return {
        args: [device.text, `process ${p.name}`],
        predict: null,
        after: () => {
          m.injected = true;
          return undefined;
        },
      };
    },
  },
);

When(
  '{device} releases its memory',
  function (this: MmWorld, device: number) {
    const [task] = this.processes.values();
    const d = this.mirror(device, task);
    expect(this.dmirrorIoctl(d, test_hmm.HMM_DMIRROR_RELEASE, 0, 1).ret, 'HMM_DMIRROR_RELEASE').to.equal(0);
  },
  function (this: MmWorld, c, device) {
    const [task] = this.processes.values();
    c.run(task, `mm_dmirror_release(${device});`);
  },
  {
    weight: 2,
    draw(m, r) {
      const device = r.one(m.devices);
      /* The step releases through the first process the scenario made, which must be alive. */
      return device && m.procs.has('A') ? { args: [device.text], predict: null } : null;
    },
  },
);

/* dmirror_device_init carves a device's first chunk into single pages (dmirror_allocate_chunk(mdevice, NULL, false)). */
Given(
  '{device} has no free PMD-order folio',
  function (this: MmWorld, device: number) {
    expect(
      this.driver().devices[device].free_folios,
      `free PMD-order folios of device ${device}`,
    ).to.deep.equal([]);
  },
  (c, device) => c.run(0, `/* device ${device}: mm_reset_devices() left its chunk in single pages */;`),
);

When(
  '{process} closes {device}',
  function (this: MmWorld, task: task_struct, device: number) {
    const key = `${device}/${task.pid}`;
    const d = this.mirrors.get(key);
    if (!d) throw new Error(`process ${task.comm} has not opened device ${device}`);
    this.kernel.dmirror_close(this.driver(), d);
    this.mirrors.delete(key);
  },
  (c, task, device) => c.run(task, `mm_close_dev(${device});`),
);

When(
  '{device} starts migrating {pages} of {process} to device memory',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    const args = this.kernel.dmirror_migrate_begin(
      this.driver(),
      this.mirror(device, task),
      this.address(range),
      range.count,
    );
    if (typeof args === 'number') throw new Error(`migrate_vma_setup failed with ${args}`);
    this.pendingMigration = { device, args };
  },
  (c) => c.cannot('userspace cannot stop a migration between migrate_vma_setup and migrate_vma_pages'),
);

When(
  'the migration finishes',
  function (this: MmWorld) {
    const p = this.pendingMigration;
    if (!p) throw new Error('no migration was started');
    const d = [...this.mirrors.entries()].find(([k]) => k.startsWith(`${p.device}/`))?.[1];
    if (!d) throw new Error('the migrating device is not open');
    this.kernel.dmirror_migrate_end(this.driver(), d, p.args);
    this.pendingMigration = null;
  },
  (c) => c.cannot('userspace cannot stop a migration between migrate_vma_setup and migrate_vma_pages'),
);

When(
  'the kernel reads {pages} of {process} through its linear map',
  function (this: MmWorld, range: PageRange, task: task_struct) {
    const e = this.entry(task, range);
    expect(e.page, 'the page table maps a page there').to.be.at.least(0);
    try {
      this.lastRead.set('kernel', [this.kernel.kmap(e.page)]);
    } catch (err) {
      if (!(err instanceof KernelInvariantViolation)) throw err;
      this.expectClaim(`spec violated: ${err.rule}`, err.message);
    }
  },
  (c) => c.cannot('a kernel access through the linear map is not a userspace operation'),
);

Then(
  'the kernel access is refused: {string}',
  function (this: MmWorld, rule: string) {
    this.claim(`spec violated: ${rule}`);
  },
  (c) => c.cannot('a kernel access through the linear map is not a userspace operation'),
);

Then(
  'the kernel read {value}',
  function (this: MmWorld, value: number) {
    expect(this.lastRead.get('kernel'), 'what the kernel read').to.deep.equal([value]);
  },
  (c) => c.cannot('a kernel access through the linear map is not a userspace operation'),
);

Then(
  'the command succeeds with cpages {int} and faults {int}',
  function (this: MmWorld, cpages: number, faults: number) {
    const c = this.lastCommand;
    if (!c) throw new Error('no device command ran');
    expect(
      { ret: c.ret, cpages: c.cmd.cpages, faults: c.cmd.faults },
      'the command: its return value, cpages and faults',
    ).to.deep.equal({
      ret: 0,
      cpages,
      faults,
    });
  },
  (c, cpages, faults) => c.observe(undefined, 'mm_obs_cmd(1, 1);', { ret: '0', cpages, faults }),
);

Then(
  'the command fails with {errno}',
  function (this: MmWorld, errno: number) {
    this.claim(`errno ${errno}`);
  },
  (c, errno) => c.observe(undefined, 'mm_obs_cmd(0, 0);', { ret: errnoName(errno) }),
);

Then(
  'the device saw {value} in every page',
  function (this: MmWorld, value: number) {
    const c = this.lastCommand;
    if (!c) throw new Error('no device command ran');
    expect(c.cmd.ptr.length, 'pages returned').to.equal(c.cmd.npages);
    expect(
      c.cmd.ptr.map((v) => `0x${v.toString(16)}`),
      'the values the device read, page by page',
    ).to.deep.equal(c.cmd.ptr.map(() => `0x${value.toString(16)}`));
  },
  function (this: MmWorld, c, value) {
    const n = this.lastCommand?.cmd.npages ?? 0;
    c.observe(undefined, 'mm_obs_device_saw();', { 'device saw': new Array(n).fill(hex(value)) });
  },
);

Then(
  'the snapshot shows {value} for every page',
  function (this: MmWorld, value: number) {
    const c = this.lastCommand;
    if (c?.name !== 'SNAPSHOT') throw new Error('no snapshot was taken');
    expect(
      c.cmd.ptr.map((v) => `0x${v.toString(16)}`),
      'the values the device read, page by page',
    ).to.deep.equal(c.cmd.ptr.map(() => `0x${value.toString(16)}`));
  },
  function (this: MmWorld, c, value) {
    const n = this.lastCommand?.cmd.npages ?? 0;
    c.observe(undefined, 'mm_obs_snapshot();', {
      ret: '0',
      bytes: new Array(n).fill(`0x${value.toString(16).padStart(2, '0')}`),
    });
  },
);

Then(
  '{pages} in {process} is/are in {memory}',
  function (this: MmWorld, range: PageRange, task: task_struct, memory: string) {
    for (let i = 0; i < range.count; i++) {
      const e = this.entry(task, range, i);
      expect(e.page, `page ${range.first + i} is mapped`).to.be.at.least(0);
      expect(this.kernel.folio(e.page).memory, `memory behind page ${range.first + i}`).to.equal(memory);
    }
  },
  (c, range, task, memory) =>
    c.observe(task, `mm_obs_memory(${cRange(c, range)});`, {
      memory: folded(new Array(range.count).fill(visibleMemory(memory))),
    }),
);

Then(
  '{device} mirrors {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    const d = this.mirror(device, task);
    for (let i = 0; i < range.count; i++)
      expect(d.pt.has(this.address(range, i) / PAGE), `device entry for page ${range.first + i}`).to.equal(
        true,
      );
  },
  (c) => c.notObservable("the device's own page table"),
);

Then(
  '{device} no longer mirrors {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    const d = this.mirror(device, task);
    for (let i = 0; i < range.count; i++)
      expect(d.pt.has(this.address(range, i) / PAGE), `device entry for page ${range.first + i}`).to.equal(
        false,
      );
  },
  (c) => c.notObservable("the device's own page table"),
);

Then(
  '{device} has been told {int} page(s) was/were freed',
  function (this: MmWorld, device: number, n: number) {
    expect(this.driver().devices[device].cfree, 'folio_free calls (cfree)').to.equal(n);
  },
  (c) => c.notObservable("the driver's cfree counter"),
);

Then(
  '{device} moved {int} page(s) to device memory and {int} back to system memory',
  function (this: MmWorld, device: number, to: number, back: number) {
    const s = this.driver().devices[device].stats;
    expect(
      { to_device: s.pages_to_device, to_system: s.pages_to_system },
      'the pages migrated to the device and back to system memory',
    ).to.deep.equal({
      to_device: to,
      to_system: back,
    });
  },
  (c) => c.notObservable("the engine's device statistics"),
);

Then(
  '{device} took {int} device fault(s) and the CPU {int} fault(s) on its memory',
  function (this: MmWorld, device: number, deviceFaults: number, cpuFaults: number) {
    const s = this.driver().devices[device].stats;
    expect(
      { device: s.device_faults, cpu: s.cpu_faults },
      'the device and CPU faults the driver counted',
    ).to.deep.equal({
      device: deviceFaults,
      cpu: cpuFaults,
    });
  },
  (c) => c.notObservable("the engine's device statistics"),
);

Then(
  "{device}'s accesses were {int} local and {int} over the link",
  function (this: MmWorld, device: number, local: number, remote: number) {
    const s = this.driver().devices[device].stats;
    expect(
      { local: s.local_pages, remote: s.remote_pages },
      'the local and remote pages the driver counted',
    ).to.deep.equal({ local, remote });
  },
  (c) => c.notObservable("the engine's device statistics"),
);

Then(
  "{device}'s modelled cost is {int} units",
  function (this: MmWorld, device: number, cost: number) {
    expect(test_hmm.dmirror_modelled_cost(this.driver().devices[device].stats), 'modelled cost').to.equal(
      cost,
    );
  },
  (c) => c.notObservable("the engine's modelled cost"),
);

/* The fault handler returned without mapping the page: the CPU faults again and again (a kernel task would spin there). */
Then(
  'the access keeps faulting without making progress',
  function (this: MmWorld) {
    this.claim('no progress');
  },
  (c) => c.cannot('a task spinning on a fault never returns to userspace to say so'),
);

Then(
  'the access waits for the migration',
  function (this: MmWorld) {
    this.claim('waiting on migration');
  },
  (c) => c.cannot('userspace cannot stop a migration between migrate_vma_setup and migrate_vma_pages'),
);

Then(
  '{process} took {int} page fault(s) in that access',
  function (this: MmWorld, _task: task_struct, n: number) {
    expect(this.lastAccessFaults, 'page faults of the last CPU access').to.equal(n);
  },
  (c, task, n) => c.observe(task, 'mm_obs_faults();', { faults: n }),
);
