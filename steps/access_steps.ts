import { expect } from 'chai';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cRange, hex } from '../support/c';
import { Then, When } from '../support/vocabulary';
import type { MmWorld, PageRange } from '../support/world';

function access(world: MmWorld, task: task_struct, range: PageRange, write: boolean, value = 0): void {
  const before = world.kernel.machine.vm_events.PGFAULT;
  const r = world.kernel.access(task, world.address(range), range.count, write, value);
  world.lastAccessFaults = world.kernel.machine.vm_events.PGFAULT - before;
  world.lastRead.set(task.comm, r.values);
  if (r.fault)
    world.expectClaim(
      r.fault,
      `${write ? 'write' : 'read'} by ${task.comm} at 0x${r.fault_address.toString(16)}`,
    );
}

/* On the kernel: a load of every int of each page (mmspec.h mm_load), SIGSEGV and SIGBUS caught. */
When(
  '{process} reads {pages}',
  function (this: MmWorld, task: task_struct, range: PageRange) {
    access(this, task, range, false);
  },
  (c, task, range) => c.run(task, `mm_load(${cRange(c, range)});`),
  {
    weight: 20,
    draw(m, r) {
      const at = m.somePlace(r);
      if (!at) return null;
      const { p, range } = at;
      const fault = m.firstFault(range, false);
      return {
        args: [`process ${p.name}`, range.text],
        predict: fault < 0 ? null : 'SIGSEGV',
        after: (_outcome, world) => m.checkRead(p, range, world.lastRead.get(p.name) ?? []),
      };
    },
  },
);

/* On the kernel: the value stored to every int of each page. */
When(
  '{process} writes {value} to {pages}',
  function (this: MmWorld, task: task_struct, value: number, range: PageRange) {
    access(this, task, range, true, value);
  },
  (c, task, value, range) => c.run(task, `mm_write(${cRange(c, range)}, ${hex(value)}u);`),
  {
    weight: 20,
    draw(m, r) {
      const at = m.somePlace(r);
      if (!at) return null;
      const { p, buf, range } = at;
      const fault = m.firstFault(range, true);
      const value = m.value();
      return {
        args: [`process ${p.name}`, `0x${value.toString(16)}`, range.text],
        predict: fault < 0 ? null : 'SIGSEGV',
        after: () => {
          const n = fault < 0 ? range.count : fault;
          for (let i = 0; i < n; i++) m.store(buf, range.first + i, value);
          return undefined;
        },
      };
    },
  },
);

Then(
  '{process} read {value}',
  function (this: MmWorld, task: task_struct, value: number) {
    const values = this.lastRead.get(task.comm);
    if (!values) throw new Error(`process ${task.comm} has not read anything yet`);
    expect(values, `what ${task.comm} read`).to.not.be.empty;
    expect(
      values.map((v) => `0x${v.toString(16)}`),
      `the value of each page process ${task.comm} read last (expected 0x${value.toString(16)} on each)`,
    ).to.deep.equal(values.map(() => `0x${value.toString(16)}`));
  },
  function (this: MmWorld, c, task) {
    c.observe(task, 'mm_obs_read();', { read: (this.lastRead.get(task.comm) ?? []).map(hex) });
  },
);

Then(
  'the access fails with {signal}',
  function (this: MmWorld, signal: string) {
    this.claim(signal);
  },
  (c, signal) => c.observe(undefined, 'mm_obs_signal();', { signal }),
);

Then(
  '{pages} in {process} holds {value}',
  function (this: MmWorld, range: PageRange, task: task_struct, value: number) {
    for (let i = 0; i < range.count; i++) {
      const e = this.entry(task, range, i);
      expect(
        e.page,
        `page ${range.first + i} of buffer ${range.buffer.name} in ${task.comm} is not mapped`,
      ).to.be.at.least(0);
      const data = this.kernel.page(e.page).data;
      expect(`0x${data.toString(16)}`, `contents of page ${range.first + i}`).to.equal(
        `0x${value.toString(16)}`,
      );
    }
  },
  function (this: MmWorld, c, range, task, value) {
    /* A CPU load of a device-private page migrates it back: the kernel cannot be asked without changing it. */
    for (let i = 0; i < range.count; i++)
      if (this.entry(task, range, i).kind.startsWith('SOFTLEAF_DEVICE')) {
        c.notObservable('a CPU load of device-private memory migrates it back to RAM');
        return;
      }
    c.observe(task, `mm_obs_holds(${cRange(c, range)});`, { holds: new Array(range.count).fill(hex(value)) });
  },
);
