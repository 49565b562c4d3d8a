/**
 * More of the hmm-tests.c vocabulary (see steps/hmm_tests_steps.ts): the
 * mappings the snapshot and huge-page tests make (PROT_NONE, the device file
 * itself, MAP_HUGETLB), the hugetlb pool they need, the gup_test debugfs
 * ioctls of hmm_gup_test, and the kill and waitpid of the fork tests.
 */
import { expect } from 'chai';
import { gup_test, mm } from '../engine';
import type { task_struct } from '../engine/include/linux/mm_types';
import type { mmap_args } from '../engine/mm/mmap';
import { cRange, cSharing } from '../support/c';
import { Given, Then, When } from '../support/vocabulary';
import { type MmWorld, PAGE, type PageRange } from '../support/world';

/** What a scenario's gup_test file, kill and waitpid left for the Then-steps. */
interface ProcessCalls {
  gupTestOpen: Set<string>;
  gupTest: { cmd: string; ret: number; size: number } | null;
  kill: number | null;
}
const calls = new WeakMap<MmWorld, ProcessCalls>();
function callsOf(world: MmWorld): ProcessCalls {
  let c = calls.get(world);
  if (!c) {
    c = { gupTestOpen: new Set(), gupTest: null, kill: null };
    calls.set(world, c);
  }
  return c;
}

/** asm-generic/signal.h */
const SIGKILL = 9;

const mapBuffer = (
  world: MmWorld,
  task: task_struct,
  name: string,
  pages: number,
  args: Omit<mmap_args, 'len'>,
) => world.mapBuffer(task, name, pages, args);

/** `mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)`: reserve addresses only. */
Given(
  '{process} maps {size} of {sharing} anonymous memory with PROT_NONE as buffer {word}',
  function (this: MmWorld, task: task_struct, pages: number, sharing: number, name: string) {
    mapBuffer(this, task, name, pages, { prot: mm.PROT_NONE, flags: sharing | mm.MAP_ANONYMOUS });
  },
  (c, task, pages, sharing, name) =>
    c.run(task, `mm_map(${c.buf(name)}, ${pages}, PROT_NONE, ${cSharing(sharing)});`),
);

/** `mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0)`: the dmirror device file itself (dmirror_fops_mmap). */
Given(
  '{process} maps {size} of the device file behind {fd}, private, as buffer {word}',
  function (this: MmWorld, task: task_struct, pages: number, fd: number, name: string) {
    const f = this.kselftest;
    if (!f) throw new Error('no hmm-tests fixture: add "Given the hmm fixture with variant …"');
    const file = this.kernel.dmirror_file(this.driver(), f.devices[fd], pages);
    mapBuffer(this, task, name, pages, { prot: mm.PROT_READ | mm.PROT_WRITE, flags: mm.MAP_PRIVATE, file });
  },
  function (this: MmWorld, c, task, pages, fd, name) {
    c.run(task, `mm_map_devfile(${c.buf(name)}, ${this.kselftest?.devices[fd]}, ${pages});`);
  },
);

/** `mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0)`. */
Given(
  '{process} maps {size} of private anonymous hugetlb memory as buffer {word}',
  function (this: MmWorld, task: task_struct, pages: number, name: string) {
    mapBuffer(this, task, name, pages, {
      prot: mm.PROT_READ | mm.PROT_WRITE,
      flags: mm.MAP_PRIVATE | mm.MAP_ANONYMOUS | mm.MAP_HUGETLB,
    });
  },
  (c, task, pages, name) =>
    c.run(task, `mm_map(${c.buf(name)}, ${pages}, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_HUGETLB);`),
);

/** The kernel command line's hugepages=N: a pool of N default-size (2 MiB) hugetlb pages. */
Given(
  'the machine boots with {int} hugetlb page(s)',
  function (this: MmWorld, n: number) {
    this.boot({ nr_hugepages: n });
  },
  (c, n) => c.run(0, `mm_nr_hugepages(${n});`),
);

/** HugePages_Free and HugePages_Rsvd of /proc/meminfo (hugetlb_free_default_pages() reads the first). */
Then(
  'the hugetlb pool has {int} free page(s), {int} reserved',
  function (this: MmWorld, free: number, reserved: number) {
    const h = this.kernel.hugetlb_meminfo();
    expect({ free: h.free, reserved: h.reserved }, 'HugePages_Free and HugePages_Rsvd').to.deep.equal({
      free,
      reserved,
    });
  },
  (c, free, reserved) => c.observe(undefined, 'mm_obs_hugetlb();', { free, reserved }),
);

/** `gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR)`. */
Given(
  '{process} opens the gup_test debugfs file',
  function (this: MmWorld, task: task_struct) {
    callsOf(this).gupTestOpen.add(task.comm);
  },
  (c, task) =>
    c.run(
      task,
      'mm_gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR); if (mm_gup_fd < 0) mm_fail("open gup_test");',
    ),
);

/**
 * hmm-tests.c `gup_test_exec(gup_fd, addr, cmd, 1, size, flags)`: one page
 * per GUP call over the range, gup_flags as given.
 */
When(
  '{process} runs the gup_test ioctl {word} on {pages} with {gup_flags}',
  function (this: MmWorld, task: task_struct, cmd: string, range: PageRange, flags: number) {
    const c = callsOf(this);
    if (!c.gupTestOpen.has(task.comm))
      throw new Error(`process ${task.comm} has not opened /sys/kernel/debug/gup_test`);
    const number = (gup_test as unknown as Record<string, number>)[cmd];
    if (typeof number !== 'number') throw new Error(`unknown gup_test command ${cmd}`);
    const gup = {
      get_delta_usec: 0,
      put_delta_usec: 0,
      addr: this.address(range),
      size: range.count * PAGE,
      nr_pages_per_call: 1,
      gup_flags: flags,
      test_flags: 0,
    };
    const ret = this.kernel.gup_test_ioctl(task, number, gup);
    c.gupTest = { cmd, ret, size: gup.size };
    if (ret !== 0) this.expectClaim(`errno ${ret}`, `gup_test ioctl ${cmd} by ${task.comm}`);
  },
  (c, task, cmd, range, flags) => c.run(task, `mm_gup_test(${cmd}, ${cRange(c, range)}, ${flags});`),
);

Then(
  'the gup_test ioctl returns 0, having taken {int} page(s)',
  function (this: MmWorld, pages: number) {
    const g = callsOf(this).gupTest;
    if (!g) throw new Error('no gup_test ioctl ran');
    expect({ ret: g.ret, size: g.size }, `gup_test ioctl ${g.cmd}`).to.deep.equal({
      ret: 0,
      size: pages * PAGE,
    });
  },
  (c, pages) => c.observe(undefined, 'mm_obs_gup_test();', { ret: '0', size: pages * PAGE }),
);

/** put_back_pages gave everything back: no page of the buffer holds a pin or a GUP reference. */
Then(
  'no page of buffer {word} in {process} is pinned or held by GUP',
  function (this: MmWorld, name: string, task: task_struct) {
    const b = this.buffer(name);
    for (let i = 0; i < b.pages; i++) {
      const e = this.kernel.lookup(task, b.start + i * PAGE);
      expect(e.page, `page ${i} of buffer ${name} maps a page`).to.be.at.least(0);
      const f = this.kernel.folio(e.page);
      expect(
        { refcount: f.refcount, pincount: f.pincount, maybe_dma_pinned: f.maybe_dma_pinned },
        `the folio behind page ${i} of buffer ${name}`,
      ).to.deep.equal({ refcount: f.mapcount, pincount: 0, maybe_dma_pinned: false });
    }
  },
  (c) => c.notObservable("a folio's refcount and pincount"),
);

/** `kill(pid, SIGKILL)`. */
When(
  '{process} sends SIGKILL to {process}',
  function (this: MmWorld, _sender: task_struct, target: task_struct) {
    callsOf(this).kill = this.kernel.kill(target, SIGKILL);
  },
  (c, sender, target) => c.run(sender, `mm_kill(${c.proc(target)});`),
);

Then(
  'kill returns {int}',
  function (this: MmWorld, ret: number) {
    expect(callsOf(this).kill, 'kill()').to.equal(ret);
  },
  (c, ret) => c.observe(undefined, 'mm_obs_kill();', { kill: ret }),
);

function waitFor(world: MmWorld, task: task_struct): number {
  const r = world.kernel.waitpid(task);
  expect(r, `waitpid() for ${task.comm}`).to.not.be.a('number');
  const { pid, status } = r as { pid: number; status: number };
  expect(pid, 'waitpid() returns the pid').to.equal(task.pid);
  return status;
}

/** `waitpid(pid, &status, 0) == pid`, `WIFEXITED(status)`, `WEXITSTATUS(status)`. */
Then(
  'waitpid for {process} returns its pid, and it exited with status {int}',
  function (this: MmWorld, task: task_struct, code: number) {
    const status = waitFor(this, task);
    expect(
      { WIFEXITED: (status & 0x7f) === 0, WEXITSTATUS: (status >> 8) & 0xff },
      'how the child exited (waitpid status)',
    ).to.deep.equal({
      WIFEXITED: true,
      WEXITSTATUS: code,
    });
  },
  (c, task, code) =>
    c.observe(c.parents.get(c.proc(task)) ?? 0, `mm_obs_waitpid(${c.proc(task)});`, {
      pid: true,
      exited: code,
      signal: null,
    }),
);

/** `waitpid(pid, &status, 0) == pid`, `WIFSIGNALED(status)`, `WTERMSIG(status) == SIGKILL`. */
Then(
  'waitpid for {process} returns its pid, and it was killed by SIGKILL',
  function (this: MmWorld, task: task_struct) {
    const status = waitFor(this, task);
    const termsig = status & 0x7f;
    expect(
      { WIFSIGNALED: termsig !== 0 && termsig !== 0x7f, WTERMSIG: termsig },
      'how the child was killed (waitpid status)',
    ).to.deep.equal({
      WIFSIGNALED: true,
      WTERMSIG: SIGKILL,
    });
  },
  (c, task) =>
    c.observe(c.parents.get(c.proc(task)) ?? 0, `mm_obs_waitpid(${c.proc(task)});`, {
      pid: true,
      exited: null,
      signal: 9,
    }),
);
