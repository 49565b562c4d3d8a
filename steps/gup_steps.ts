import { expect } from 'chai';
import { mm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import { cRange, cString, errnoName, hex } from '../support/c';
import type { Drawn, Model } from '../support/explore';
import { defineParameterType, Then, type Translator, When } from '../support/vocabulary';
import type { MmWorld, PageRange } from '../support/world';

/**
 * A pin on the kernel: gup_test's PIN_LONGTERM_TEST_START, which cow.c uses,
 * holds FOLL_PIN | FOLL_LONGTERM pins until PIN_LONGTERM_TEST_STOP. Userspace
 * has no way to hold a short-term pin.
 */
function cPin(c: Translator, task: task_struct, range: PageRange, flags: number, fast: boolean): void {
  if (!(flags & mm.FOLL_LONGTERM)) c.cannot('userspace cannot hold a short-term (non-FOLL_LONGTERM) pin');
  else c.run(task, `mm_pin(${cRange(c, range)}, ${flags & mm.FOLL_WRITE ? 1 : 0}, 1, ${fast ? 1 : 0});`);
}

/** How a page is pinned: `When process A pins page 0 of buffer X long-term read-only`. */
defineParameterType({
  name: 'pin',
  regexp: /(long-term )?(read-only|for writing)/,
  transformer: (longterm: string | undefined, how: string): number =>
    mm.FOLL_PIN | (longterm ? mm.FOLL_LONGTERM : 0) | (how === 'for writing' ? mm.FOLL_WRITE : 0),
});

/** The explorer's pin of one page: long-term or not, read-only or for writing. */
function drawPin(m: Model, r: import('../support/explore').Draw): Drawn | null {
  const at = m.somePlace(r, { single: true });
  if (!at) return null;
  const { p, buf, range } = at;
  const how =
    r.one(['long-term read-only', 'read-only', 'long-term for writing', 'for writing']) ?? 'read-only';
  return {
    args: [`process ${p.name}`, range.text, how],
    claimErrno: 'pinning fails with {errno}',
    after: (outcome) => {
      if (outcome === null)
        m.pin(p, buf, range.first, how.endsWith('for writing'), how.startsWith('long-term'));
      return undefined;
    },
  };
}

const key = (task: task_struct, range: PageRange): string =>
  `${task.comm}/${range.buffer.name}/${range.first}`;

function grab(world: MmWorld, task: task_struct, range: PageRange, flags: number, fast = false): void {
  let ret: number;
  let pages: number[];
  if (fast) {
    const r = world.kernel.gup_fast(
      task,
      world.address(range),
      range.count,
      flags | (flags & mm.FOLL_PIN ? 0 : mm.FOLL_GET),
    );
    ({ ret, pages } = r);
    world.lastGupFast = r.fast;
  } else {
    const gup = flags & mm.FOLL_PIN ? world.kernel.pin_user_pages : world.kernel.get_user_pages;
    ({ ret, pages } = gup.call(world.kernel, task, world.address(range), range.count, flags));
  }
  if (ret !== range.count)
    world.expectClaim(`errno ${ret}`, `GUP of ${range.count} pages by ${task.comm} returned ${ret}`);
  const list = world.grabbed.get(key(task, range)) ?? [];
  for (const page of pages) list.push({ page, pin: (flags & mm.FOLL_PIN) !== 0 });
  world.grabbed.set(key(task, range), list);
}

When(
  '{process} pins {pages} {pin}',
  function (this: MmWorld, task: task_struct, range: PageRange, flags: number) {
    grab(this, task, range, flags);
  },
  (c, task, range, flags) => cPin(c, task, range, flags, false),
  { weight: 5, draw: drawPin },
);

When(
  '{process} pins {pages} {pin} with GUP-fast',
  function (this: MmWorld, task: task_struct, range: PageRange, flags: number) {
    grab(this, task, range, flags, true);
  },
  (c, task, range, flags) => cPin(c, task, range, flags, true),
  { weight: 3, draw: drawPin },
);

Then(
  'pinning fails with {errno}',
  function (this: MmWorld, errno: number) {
    this.claim(`errno ${errno}`);
  },
  (c, errno) => c.observe(undefined, 'mm_obs_errno();', { errno: errnoName(errno) }),
);

Then(
  'GUP-fast took {int} page(s) and the slow path the rest',
  function (this: MmWorld, n: number) {
    expect(this.lastGupFast, 'pages taken by the lockless walk').to.equal(n);
  },
  (c) => c.notObservable('which GUP path took each page'),
);

When(
  '{process} takes a GUP reference on {pages}, as vmsplice does',
  function (this: MmWorld, task: task_struct, range: PageRange) {
    grab(this, task, range, 0);
  },
  (c, task, range) => c.run(task, `mm_vmsplice(${cRange(c, range)});`),
);

When(
  '{process} releases what it grabbed of {pages}',
  function (this: MmWorld, task: task_struct, range: PageRange) {
    const list = this.grabbed.get(key(task, range));
    if (!list)
      throw new Error(`${task.comm} grabbed nothing of page ${range.first} of buffer ${range.buffer.name}`);
    for (const g of list) g.pin ? this.kernel.unpin_user_page(g.page) : this.kernel.put_page(g.page);
    this.grabbed.delete(key(task, range));
  },
  (c, task, range) => c.run(task, `mm_release(${c.buf(range.buffer.name)}, ${range.first});`),
  {
    weight: 3,
    draw(m, r) {
      const pin = r.one(m.pins);
      if (!pin) return null;
      return {
        args: [`process ${pin.proc}`, `page ${pin.page} of buffer ${pin.buf}`],
        predict: null,
        after: () => {
          for (let i = m.pins.length - 1; i >= 0; i--)
            if (m.pins[i].proc === pin.proc && m.pins[i].buf === pin.buf && m.pins[i].page === pin.page)
              m.pins.splice(i, 1);
          return undefined;
        },
      };
    },
  },
);

Then(
  'what {process} grabbed of {pages} holds {value}',
  function (this: MmWorld, task: task_struct, range: PageRange, value: number) {
    const list = this.grabbed.get(key(task, range));
    if (!list)
      throw new Error(`${task.comm} grabbed nothing of page ${range.first} of buffer ${range.buffer.name}`);
    for (const g of list)
      expect(`0x${this.kernel.page(g.page).data.toString(16)}`, 'contents seen through the pin').to.equal(
        `0x${value.toString(16)}`,
      );
  },
  function (this: MmWorld, c, task, range, value) {
    const n = this.grabbed.get(key(task, range))?.length ?? 0;
    c.observe(task, `mm_obs_grabbed(${c.buf(range.buffer.name)}, ${range.first});`, {
      grabbed: new Array(n).fill(hex(value)),
    });
  },
  {
    /* A check of what a pin sees: each pin of a page, against what the model says the page holds. */
    weight: 4,
    draw(m, r) {
      const pin = r.one(m.pins.filter((x) => m.pinned(x) !== null));
      if (!pin) return null;
      /* Every pin the process holds of that page must see it. */
      const same = m.pins.filter((x) => x.proc === pin.proc && x.buf === pin.buf && x.page === pin.page);
      const values = new Set(same.map((x) => m.pinned(x)));
      if (values.size !== 1) return null;
      return {
        args: [
          `process ${pin.proc}`,
          `page ${pin.page} of buffer ${pin.buf}`,
          `0x${(m.pinned(pin) as number).toString(16)}`,
        ],
        predict: null,
      };
    },
  },
);

Then(
  'what {process} grabbed of {pages} is the page mapped there',
  function (this: MmWorld, task: task_struct, range: PageRange) {
    const list = this.grabbed.get(key(task, range));
    if (!list)
      throw new Error(`${task.comm} grabbed nothing of page ${range.first} of buffer ${range.buffer.name}`);
    list.forEach((g, i) => {
      expect(g.page, `grabbed page ${i}`).to.equal(this.entry(task, range, i).page);
    });
  },
  (c) => c.notObservable('the page a pin or a pipe holds, by PFN'),
);

When(
  '{process} calls {word} with {gup_flags} on {pages}',
  function (this: MmWorld, task: task_struct, api: string, flags: number, range: PageRange) {
    const apis: Record<
      string,
      (t: task_struct, a: number, n: number, f: number) => { ret: number; pages: number[] }
    > = {
      get_user_pages: (t, a, n, f) => this.kernel.get_user_pages(t, a, n, f),
      pin_user_pages: (t, a, n, f) => this.kernel.pin_user_pages(t, a, n, f),
    };
    const call = apis[api];
    if (!call) throw new Error(`unknown GUP entry point ${api}; known: ${Object.keys(apis).join(', ')}`);
    const { ret, pages } = call(task, this.address(range), range.count, flags);
    if (ret !== range.count) this.expectClaim(`errno ${ret}`, `${api} returned ${ret}`);
    const list = this.grabbed.get(key(task, range)) ?? [];
    for (const page of pages) list.push({ page, pin: api === 'pin_user_pages' });
    this.grabbed.set(key(task, range), list);
  },
  (c) =>
    c.cannot(
      'get_user_pages and pin_user_pages with arbitrary flags are not a userspace call (gup_test pins long-term only)',
    ),
);

Then(
  'the kernel warns in {word}',
  function (this: MmWorld, where: string) {
    this.claimWarning(where);
  },
  (c, where: string) => {
    if (!/^\w+$/.test(where)) return c.cannot(`"${where}" is not a kernel function name`);
    c.observe(undefined, `mm_obs_warned(${cString(where)});`, { warned: true });
  },
);
