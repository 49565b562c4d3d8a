import type { DataTable } from '@cucumber/cucumber';
import { expect } from 'chai';
import type { task_struct } from '../engine/include/linux/mm_types';
import { Given, Then, type Translator } from '../support/vocabulary';
import { type MmWorld, PAGE, type PageRange } from '../support/world';

/** An MMU interval notifier is an in-kernel subscription: userspace has none to register or read. */
const NOTIFIER = (c: Translator) =>
  c.cannot('an MMU interval notifier is an in-kernel object, not a userspace one');

const key = (task: task_struct, buffer: string): string => `${task.comm}/${buffer}`;

Given(
  'an MMU interval notifier on buffer {word} in {process}',
  function (this: MmWorld, name: string, task: task_struct) {
    const b = this.buffer(name);
    this.notifiers.set(key(task, name), this.kernel.watch(task, b.start, b.pages * PAGE));
  },
  NOTIFIER,
);

function events(world: MmWorld, name: string, task: task_struct) {
  const list = world.notifiers.get(key(task, name));
  if (!list) throw new Error(`no notifier watches buffer ${name} in process ${task.comm}`);
  const b = world.buffer(name);
  const page = (addr: number) => Math.floor((addr - b.start) / PAGE);
  return list.map((e) => ({
    event: e.event,
    pages: `${Math.max(0, page(e.start))}-${Math.min(b.pages, page(e.end - 1) + 1) - 1}`,
  }));
}

Then(
  'the notifier on buffer {word} in {process} saw {mmu_event} over {pages}',
  function (this: MmWorld, name: string, task: task_struct, event: string, range: PageRange) {
    const want = { event, pages: `${range.first}-${range.first + range.count - 1}` };
    expect(events(this, name, task), `the MMU notifier events ${name} saw`).to.deep.include(want);
  },
  NOTIFIER,
);

Then(
  'the notifier on buffer {word} in {process} saw exactly:',
  function (this: MmWorld, name: string, task: task_struct, table: DataTable) {
    expect(events(this, name, task), `the MMU notifier events ${name} saw`).to.deep.equal(table.hashes());
  },
  NOTIFIER,
);

Then(
  'the notifier on buffer {word} in {process} saw nothing',
  function (this: MmWorld, name: string, task: task_struct) {
    expect(events(this, name, task), `the MMU notifier events ${name} saw`).to.deep.equal([]);
  },
  NOTIFIER,
);
