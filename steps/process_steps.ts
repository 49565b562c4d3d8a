import { Given, When } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { task_struct } from '../engine/include/linux/mm_types';
import type { MmWorld } from '../support/world';

Given('a process {word}', function (this: MmWorld, name: string) {
  this.addProcess(name, this.kernel.spawn(name));
});

Given('processes {word} and {word}', function (this: MmWorld, a: string, b: string) {
  this.addProcess(a, this.kernel.spawn(a));
  this.addProcess(b, this.kernel.spawn(b));
});

Given('transparent hugepages are {word}', function (this: MmWorld, mode: string) {
  expect(['always', 'madvise', 'never'], 'THP mode').to.include(mode);
  this.boot({ transparent_hugepage: mode as 'always' | 'madvise' | 'never' });
});

Given('the machine has {int} pages of RAM', function (this: MmWorld, pages: number) {
  this.boot({ ram_pages: pages });
});

When('{process} forks process {word}', function (this: MmWorld, parent: task_struct, child: string) {
  const ret = this.kernel.fork(parent, child);
  expect(ret, `fork() of ${parent.comm}`).to.not.be.a('number');
  this.addProcess(child, ret as task_struct);
});

When('{process} exits', function (this: MmWorld, task: task_struct) {
  this.kernel.exit(task);
});

Given(
  'the kernel refuses long-term pins of device-coherent memory, as the v6 series did',
  function (this: MmWorld) {
    this.boot({ coherent_longterm_pin: 'fail' });
  },
);

When(
  '{process} forks process {word}, which exits',
  function (this: MmWorld, parent: task_struct, child: string) {
    const ret = this.kernel.fork(parent, child);
    expect(ret, `fork() of ${parent.comm}`).to.not.be.a('number');
    this.addProcess(child, ret as task_struct);
    this.kernel.exit(ret as task_struct);
  },
);
