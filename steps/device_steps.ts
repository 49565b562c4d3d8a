import { Given, Then, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import { KernelInvariantViolation, mm, test_hmm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { DMIRROR_IOCTLS } from '../support/parameter_types';
import { type MmWorld, PAGE, type PageRange } from '../support/world';

function ioctl(
  world: MmWorld,
  device: number,
  task: task_struct,
  name: string,
  range: PageRange,
  ptr: number[] = [],
) {
  const d = world.mirror(device, task);
  const { ret, cmd } = world.dmirrorIoctl(d, DMIRROR_IOCTLS[name], world.address(range), range.count, ptr);
  world.lastCommand = { name, ret, cmd };
  if (ret !== 0) world.expectClaim(`errno ${ret}`, `HMM_DMIRROR_${name} on /dev/hmm_dmirror${device}`);
}

Given('the HMM test driver is loaded', function (this: MmWorld) {
  this.hmm = this.kernel.load_hmm_dmirror({ coherent: false });
});

Given('the HMM test driver is loaded with device-coherent memory', function (this: MmWorld) {
  this.hmm = this.kernel.load_hmm_dmirror({ coherent: true });
});

Given('{device} maps read faults read-only', function (this: MmWorld, device: number) {
  this.driver().devices[device].fault_policy = 'read-only on read faults';
});

Given('{device} maps every fault writable', function (this: MmWorld, device: number) {
  this.driver().devices[device].fault_policy = 'write on every fault';
});

When(
  '{device} migrates {pages} of {process} to device memory',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'MIGRATE_TO_DEV', range);
  },
);

When(
  '{device} migrates {pages} of {process} back to system memory',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'MIGRATE_TO_SYS', range);
  },
);

When(
  '{device} reads {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'READ', range);
  },
);

When(
  '{device} reads {pages} of {process} {int} times',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct, times: number) {
    for (let i = 0; i < times; i++) ioctl(this, device, task, 'READ', range);
  },
);

Given(
  "{process} maps {size} of {device}'s file as buffer {word}",
  function (this: MmWorld, task: task_struct, pages: number, device: number, name: string) {
    const file = this.kernel.dmirror_file(this.driver(), device, pages);
    this.mapBuffer(task, name, pages, { prot: mm.PROT_READ | mm.PROT_WRITE, flags: mm.MAP_SHARED, file });
  },
);

When(
  '{device} writes {value} to {pages} of {process}',
  function (this: MmWorld, device: number, value: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'WRITE', range, new Array(range.count).fill(value));
  },
);

When(
  '{device} takes a snapshot of {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'SNAPSHOT', range);
  },
);

When(
  '{device} takes exclusive access to {pages} of {process}',
  function (this: MmWorld, device: number, range: PageRange, task: task_struct) {
    ioctl(this, device, task, 'EXCLUSIVE', range);
  },
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
);

Given(
  'the next allocation of {device} for {process} fails',
  function (this: MmWorld, device: number, task: task_struct) {
    const d = this.mirror(device, task);
    const { ret } = this.dmirrorIoctl(d, test_hmm.HMM_DMIRROR_FLAGS, 0, test_hmm.HMM_DMIRROR_FLAG_FAIL_ALLOC);
    expect(ret, 'HMM_DMIRROR_FLAGS').to.equal(0);
  },
);

When('{device} releases its memory', function (this: MmWorld, device: number) {
  const [task] = this.processes.values();
  const d = this.mirror(device, task);
  expect(this.dmirrorIoctl(d, test_hmm.HMM_DMIRROR_RELEASE, 0, 1).ret, 'HMM_DMIRROR_RELEASE').to.equal(0);
});

When('{process} closes {device}', function (this: MmWorld, task: task_struct, device: number) {
  const key = `${device}/${task.pid}`;
  const d = this.mirrors.get(key);
  if (!d) throw new Error(`process ${task.comm} has not opened device ${device}`);
  this.kernel.dmirror_close(this.driver(), d);
  this.mirrors.delete(key);
});

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
);

When('the migration finishes', function (this: MmWorld) {
  const p = this.pendingMigration;
  if (!p) throw new Error('no migration was started');
  const d = [...this.mirrors.entries()].find(([k]) => k.startsWith(`${p.device}/`))?.[1];
  if (!d) throw new Error('the migrating device is not open');
  this.kernel.dmirror_migrate_end(this.driver(), d, p.args);
  this.pendingMigration = null;
});

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
);

Then('the kernel access is refused: {string}', function (this: MmWorld, rule: string) {
  this.claim(`spec violated: ${rule}`);
});

Then('the kernel read {value}', function (this: MmWorld, value: number) {
  expect(this.lastRead.get('kernel'), 'what the kernel read').to.deep.equal([value]);
});

Then(
  'the command succeeds with cpages {int} and faults {int}',
  function (this: MmWorld, cpages: number, faults: number) {
    const c = this.lastCommand;
    if (!c) throw new Error('no device command ran');
    expect({ ret: c.ret, cpages: c.cmd.cpages, faults: c.cmd.faults }).to.deep.equal({
      ret: 0,
      cpages,
      faults,
    });
  },
);

Then('the command fails with {errno}', function (this: MmWorld, errno: number) {
  this.claim(`errno ${errno}`);
});

Then('the device saw {value} in every page', function (this: MmWorld, value: number) {
  const c = this.lastCommand;
  if (!c) throw new Error('no device command ran');
  expect(c.cmd.ptr.length, 'pages returned').to.equal(c.cmd.npages);
  expect(c.cmd.ptr.map((v) => `0x${v.toString(16)}`)).to.deep.equal(
    c.cmd.ptr.map(() => `0x${value.toString(16)}`),
  );
});

Then('the snapshot shows {value} for every page', function (this: MmWorld, value: number) {
  const c = this.lastCommand;
  if (c?.name !== 'SNAPSHOT') throw new Error('no snapshot was taken');
  expect(c.cmd.ptr.map((v) => `0x${v.toString(16)}`)).to.deep.equal(
    c.cmd.ptr.map(() => `0x${value.toString(16)}`),
  );
});

Then(
  '{pages} in {process} is/are in {memory}',
  function (this: MmWorld, range: PageRange, task: task_struct, memory: string) {
    for (let i = 0; i < range.count; i++) {
      const e = this.entry(task, range, i);
      expect(e.page, `page ${range.first + i} is mapped`).to.be.at.least(0);
      expect(this.kernel.folio(e.page).memory, `memory behind page ${range.first + i}`).to.equal(memory);
    }
  },
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
);

Then(
  '{device} has been told {int} page(s) was/were freed',
  function (this: MmWorld, device: number, n: number) {
    expect(this.driver().devices[device].cfree, 'folio_free calls (cfree)').to.equal(n);
  },
);

Then(
  '{device} moved {int} page(s) to device memory and {int} back to system memory',
  function (this: MmWorld, device: number, to: number, back: number) {
    const s = this.driver().devices[device].stats;
    expect({ to_device: s.pages_to_device, to_system: s.pages_to_system }).to.deep.equal({
      to_device: to,
      to_system: back,
    });
  },
);

Then(
  '{device} took {int} device fault(s) and the CPU {int} fault(s) on its memory',
  function (this: MmWorld, device: number, deviceFaults: number, cpuFaults: number) {
    const s = this.driver().devices[device].stats;
    expect({ device: s.device_faults, cpu: s.cpu_faults }).to.deep.equal({
      device: deviceFaults,
      cpu: cpuFaults,
    });
  },
);

Then(
  "{device}'s accesses were {int} local and {int} over the link",
  function (this: MmWorld, device: number, local: number, remote: number) {
    const s = this.driver().devices[device].stats;
    expect({ local: s.local_pages, remote: s.remote_pages }).to.deep.equal({ local, remote });
  },
);

Then("{device}'s modelled cost is {int} units", function (this: MmWorld, device: number, cost: number) {
  expect(test_hmm.dmirror_modelled_cost(this.driver().devices[device].stats), 'modelled cost').to.equal(cost);
});

Then('the access waits for the migration', function (this: MmWorld) {
  this.claim('waiting on migration');
});

Then(
  '{process} took {int} page fault(s) in that access',
  function (this: MmWorld, _task: task_struct, n: number) {
    expect(this.lastAccessFaults, 'page faults of the last CPU access').to.equal(n);
  },
);
