import { expect } from 'chai';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cString } from '../support/c';
import { Given, When } from '../support/vocabulary';
import type { MmWorld } from '../support/world';

/* On the kernel, each process of a scenario is a fork of its runner before anything is mapped: an mm of its own. */
Given(
  'a process {word}',
  function (this: MmWorld, name: string) {
    this.addProcess(name, this.kernel.spawn(name));
  },
  (c, name) => c.run(0, `mm_spawn(${c.proc(name)});`),
);

Given(
  'processes {word} and {word}',
  function (this: MmWorld, a: string, b: string) {
    this.addProcess(a, this.kernel.spawn(a));
    this.addProcess(b, this.kernel.spawn(b));
  },
  (c, a, b) => {
    c.run(0, `mm_spawn(${c.proc(a)});`);
    c.run(0, `mm_spawn(${c.proc(b)});`);
  },
);

/* The guest's THP mode is madvise; a scenario that sets another has it for itself (the runner restores madvise). */
Given(
  'transparent hugepages are {word}',
  function (this: MmWorld, mode: string) {
    expect(['always', 'madvise', 'never'], 'THP mode').to.include(mode);
    this.boot({ transparent_hugepage: mode as 'always' | 'madvise' | 'never' });
  },
  (c, mode) => c.run(0, `mm_thp(${cString(mode)});`),
);

Given(
  'the machine has {int} pages of RAM',
  function (this: MmWorld, pages: number) {
    this.boot({ ram_pages: pages });
  },
  (c) => c.cannot("the guest's RAM is 4 GiB; a scenario cannot shrink it"),
);

When(
  '{process} forks process {word}',
  function (this: MmWorld, parent: task_struct, child: string) {
    const ret = this.kernel.fork(parent, child);
    expect(ret, `fork() of ${parent.comm}`).to.not.be.a('number');
    this.addProcess(child, ret as task_struct);
  },
  (c, parent, child) => {
    c.parents.set(c.proc(child), c.proc(parent));
    c.run(parent, `mm_fork(${c.proc(child)});`);
  },
  {
    weight: 6,
    draw(m, r) {
      const parent = m.someProcess(r);
      if (!parent || m.procs.size >= m.maxProcesses) return null;
      const child = m.procName();
      if (!child) return null;
      return {
        args: [`process ${parent.name}`, child],
        predict: null,
        after: () => void m.fork(parent, child),
      };
    },
  },
);

When(
  '{process} exits',
  function (this: MmWorld, task: task_struct) {
    this.kernel.exit(task);
  },
  (c, task) => c.run(task, 'mm_exit();'),
  {
    weight: 3,
    draw(m, r) {
      const p = m.someProcess(r);
      if (!p || m.procs.size < 2) return null;
      return { args: [`process ${p.name}`], predict: null, after: () => void m.exit(p) };
    },
  },
);

Given(
  'read-only pins do not unshare a shared anonymous page, as before Linux 5.19',
  function (this: MmWorld) {
    this.boot({ ro_pin_unshare: 'none' });
  },
  (c) => c.cannot('gup_must_unshare as it was before v5.19 (a7f226604170)', true),
);

Given(
  'the kernel refuses long-term pins of device-coherent memory, as the v6 series did',
  function (this: MmWorld) {
    this.boot({ coherent_longterm_pin: 'fail' });
  },
  (c) => c.cannot('the v6 series design of long-term pins on device-coherent memory', true),
);

When(
  '{process} forks process {word}, which exits',
  function (this: MmWorld, parent: task_struct, child: string) {
    const ret = this.kernel.fork(parent, child);
    expect(ret, `fork() of ${parent.comm}`).to.not.be.a('number');
    this.addProcess(child, ret as task_struct);
    this.kernel.exit(ret as task_struct);
  },
  (c, parent, child) => {
    c.parents.set(c.proc(child), c.proc(parent));
    c.run(parent, `mm_fork(${c.proc(child)});`);
    c.run(child, 'mm_exit();');
  },
);
