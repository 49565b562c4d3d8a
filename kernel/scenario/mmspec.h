/*
 * mmspec.h: the runtime of a scenario translated to C (scripts/lib/kernel/scenarios.ts).
 *
 * A translated scenario is a list of steps, each a C function run by one of
 * the scenario's processes (its owner). The processes run in lockstep on a
 * turn counter in a MAP_SHARED page made before anything else: a process
 * runs its step when the turn reaches it, then hands the turn on. `a
 * process P` is a fork of the scenario's runner (a fresh mm), `P forks C` a
 * fork in P's step, so both continue down the same list.
 *
 * A Then-step prints what it saw as one JSON line on stdout,
 *   {"scenario":N,"step":S,"got":...}
 * and the host sets it beside what the engine saw at the same step. A
 * step that fails in a way the engine would not (a syscall that should not
 * fail) prints {"scenario":N,"step":S,"error":"..."}; that is a difference
 * too, not a crash of the run.
 *
 * Built with -I <kernel>/lib (test_hmm_uapi.h) and -I <kernel>/mm (gup_test.h),
 * against the kernel's own exported headers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "gup_test.h"
#include "test_hmm_uapi.h"

/* Newer than Debian 12's glibc headers (include/uapi/asm-generic/mman-common.h, include/uapi/linux/mman.h). */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define MM_PAGE 4096UL
#define MM_PMD (512UL * MM_PAGE)
#define MM_INTS (MM_PAGE / sizeof(int))
#define MM_PROCS 8
#define MM_BUFS 16
#define MM_MAX_READ 1024
#define MM_MAX_GRAB 16

/* The swap types pagemap shows for a non-present entry (include/linux/swap.h; set by the host from .config). */
#ifndef MM_SWP_MIGRATION_READ
#error "the host passes -DMM_SWP_* from the kernel's include/linux/swap.h and .config"
#endif

/* The scenarios' files: an ext2 filesystem on the guest's second disk (scripts/lib/kernel/guest.ts scratchBytes). */
#define MM_FILES "/scratch"

/* Device-coherent memory: the memmap=! range test_hmm's spm_addr_dev0/1 use (scripts/lib/kernel/guest.ts). */
#define MM_COHERENT_FIRST_PFN 0x140000UL
#define MM_COHERENT_END_PFN 0x160000UL

struct mm_step {
	int owner;
	void (*fn)(void);
};

struct mm_grab {
	int kind; /* 1: vmsplice pipe, 2: gup_test pin */
	int fd[2];
	long first, count;
};

struct mm_shared {
	volatile int turn;
	volatile int failed;
	int pid[MM_PROCS];
	uintptr_t addr[MM_BUFS];
	long pages[MM_BUFS];
	/* The PROT_NONE reservation after an anonymous buffer (mm_map), 0 for none. */
	uintptr_t guard[MM_BUFS];
	/* The last access: the signal it died of (0: none). */
	int last_signal;
	/* The last dmirror ioctl: its return (-errno or 0), cpages, faults, its bounce bytes. */
	int cmd_ret;
	uint64_t cmd_cpages, cmd_faults, cmd_npages;
	unsigned char snapshot[MM_MAX_READ];
	/* The last failing syscall's -errno, for "fails with -E…". */
	int last_errno;
	/* What each process last read: one value per page, -1 where a page's ints differ. */
	long read_count[MM_PROCS];
	int64_t read_value[MM_PROCS][MM_MAX_READ];
	/* The last ptr[n] load. */
	int64_t load;
	int load_ok;
	volatile int exited_pid;
	/* The buffer range of the last dmirror ioctl. */
	int cmd_b;
	long cmd_first;
	/* Page faults (minor + major) each process took in its last access. */
	long faults[MM_PROCS];
	/* Named pages: their PFNs. */
	uint64_t named[8];
	/* The last pagemap read (hmm-tests.c pagemap_get_entry over a range). */
	long pm_count;
	uint64_t pm[MM_MAX_READ];
};

static struct mm_shared *sh;
static int mm_me;
static int mm_scenario;
static int mm_cur;
static int mm_dev_fd[4] = { -1, -1, -1, -1 };
static int mm_child_fd = -1;
static int *mm_mirror[MM_BUFS];
static struct mm_grab mm_grabs[MM_MAX_GRAB];
static int mm_ngrabs;
static int mm_gup_fd = -1;
/* /proc/self/pagemap names the opener's mm: a fork child must open its own. */
static int mm_pagemap_fd = -1;

static uint64_t mm_pagemap(uintptr_t addr);
static void mm_wait_exited(void);
static int64_t mm_entry_pfn(uint64_t e);
static void mm_expect0(int ret, const char *what);
static uint64_t mm_categories(uintptr_t addr);

static void mm_print(const char *fmt, ...)
{
	char line[8192];
	int n = snprintf(line, sizeof(line), "{\"scenario\":%d,\"step\":%d,", mm_scenario, mm_cur);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 2, fmt, ap);
	va_end(ap);
	line[n++] = '}';
	line[n++] = '\n';
	if (write(1, line, n) < 0)
		_exit(3);
}

/* A step that cannot go on: say why, and end this process's part of the scenario. */
static void mm_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *c = msg; *c; c++)
		if (*c == '"' || *c == '\\')
			*c = '\'';
	if (!sh) {
		printf("mmspec-scenario: %s\n", msg);
		return;
	}
	mm_print("\"error\":\"%s\"", msg);
	sh->failed = 1;
	sh->turn = 1 << 30;
	_exit(1);
}

static const char *mm_errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "-EPERM";
	case ENOENT: return "-ENOENT";
	case EIO: return "-EIO";
	case EFAULT: return "-EFAULT";
	case EBUSY: return "-EBUSY";
	case EEXIST: return "-EEXIST";
	case EINVAL: return "-EINVAL";
	case ENOMEM: return "-ENOMEM";
	case ENOSPC: return "-ENOSPC";
	case EAGAIN: return "-EAGAIN";
	case EACCES: return "-EACCES";
	case ENODEV: return "-ENODEV";
	case EOPNOTSUPP: return "-EOPNOTSUPP";
	default: return "-E?";
	}
}

/* ---- buffers ---- */

static char *mm_addr(int b, long page)
{
	if (!sh->addr[b])
		mm_fail("buffer %d is not mapped", b);
	return (char *)sh->addr[b] + page * MM_PAGE;
}

/*
 * Every anonymous buffer is followed by 4 MiB of PROT_NONE reservation: the
 * engine's address space has room after a buffer, where a step's mremap
 * (to N KiB past its end) lands; a guest process may have another mapping
 * right there, which MREMAP_FIXED would unmap. The reservation is a VMA of
 * its own, never merged with the buffer (other protection), so no step
 * counting VMAs over a buffer sees it.
 */
#define MM_GUARD (4UL << 20)
static void mm_map(int b, long pages, int prot, int flags)
{
	char *r = mmap(NULL, pages * MM_PAGE + MM_GUARD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		mm_fail("mmap of %ld pages and a guard: %s", pages, strerror(errno));
	void *p = mmap(r, pages * MM_PAGE, prot, flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		mm_fail("mmap of %ld pages: %s", pages, strerror(errno));
	sh->guard[b] = (uintptr_t)r + pages * MM_PAGE;
	sh->addr[b] = (uintptr_t)p;
	sh->pages[b] = pages;
}

/* hmm-tests.c and cow.c: twice the size, then the window at the first PMD boundary. */
static void mm_map_aligned(int whole, int b, long pages, int prot, int flags, long window)
{
	mm_map(whole, pages, prot, flags);
	uintptr_t start = (sh->addr[whole] + MM_PMD - 1) & ~(MM_PMD - 1);
	if (start + window * MM_PAGE > sh->addr[whole] + pages * MM_PAGE)
		mm_fail("a %ld-page window at a 2 MiB boundary does not fit", window);
	sh->addr[b] = start;
	sh->pages[b] = window;
}

/* munmap of pages of a buffer; a whole buffer's reservation goes with it, so the hole is as the engine leaves it. */
static void mm_unmap(int b, long first, long count)
{
	mm_expect0(munmap(mm_addr(b, first), count * MM_PAGE), "munmap");
	if (first == 0 && count == sh->pages[b] && sh->guard[b]) {
		mm_expect0(munmap((void *)sh->guard[b], MM_GUARD), "munmap of the guard");
		sh->guard[b] = 0;
	}
}

static void mm_alias(int b, int of, long first, long pages)
{
	sh->addr[b] = sh->addr[of] + first * MM_PAGE;
	sh->pages[b] = pages;
}

static void mm_expect0(int ret, const char *what)
{
	if (ret)
		mm_fail("%s: %s", what, strerror(errno));
}

static int mm_syscall_errno(int ret)
{
	sh->last_errno = ret ? -errno : 0;
	return ret;
}

/* ---- CPU access, with SIGSEGV and SIGBUS caught ---- */

static sigjmp_buf mm_jmp;

static void mm_on_fault(int sig)
{
	siglongjmp(mm_jmp, sig);
}

static void mm_catch(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = mm_on_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

#include <sys/resource.h>

static long mm_fault_count(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

/* int j of page k of a buffer under a pattern: kind 0: 0, 1: 0xFF bytes, 2: sign·(1024·k + j) + c. */
static int mm_pattern(int kind, int sign, int c, long k, long j)
{
	if (kind == 0)
		return 0;
	if (kind == 1)
		return -1;
	return sign * (int)(k * MM_INTS + j) + c;
}

/* Store to every int of the pages: a value, or a pattern (kind >= 0). Returns the signal, or 0. */
/* The end of a store or a load: the faults it took and its signal (0: none), for "faults" and "gets SIGSEGV". */
static int mm_access_done(long before, int sig)
{
	sh->faults[mm_me] = mm_fault_count() - before;
	sh->last_signal = sig;
	return sig;
}

/* One value per page, as "reads" and "holds" print it: its ints' value, or -1 where they differ. */
static int64_t mm_page_value(const volatile int *p)
{
	int v = p[0];
	for (long j = 1; j < (long)MM_INTS; j++)
		if (p[j] != v)
			return -1;
	return (uint32_t)v;
}

static int mm_store(int b, long first, long count, int kind, int sign, int c, int value)
{
	volatile long k = first;
	volatile long before = mm_fault_count();
	int sig = sigsetjmp(mm_jmp, 1);
	if (sig)
		return mm_access_done(before, sig);
	for (; k < first + count; k++) {
		int *p = (int *)mm_addr(b, k);
		for (long j = 0; j < (long)MM_INTS; j++)
			p[j] = kind < 0 ? value : mm_pattern(kind, sign, c, k, j);
	}
	return mm_access_done(before, 0);
}

/* Load every int; keep one value per page (-1 where a page's ints differ) for "read". */
static int mm_load(int b, long first, long count)
{
	volatile long k = first;
	volatile long before = mm_fault_count();
	int sig = sigsetjmp(mm_jmp, 1);
	if (sig)
		return mm_access_done(before, sig);
	sh->read_count[mm_me] = 0;
	for (; k < first + count; k++) {
		int64_t one = mm_page_value((volatile int *)mm_addr(b, k));
		if (k - first < MM_MAX_READ)
			sh->read_value[mm_me][k - first] = one;
		sh->read_count[mm_me] = k - first + 1;
	}
	return mm_access_done(before, 0);
}

static void mm_write(int b, long first, long count, unsigned value)
{
	mm_store(b, first, count, -1, 0, 0, (int)value);
}

static void mm_set(int b, long first, long count, int kind, int sign, int c)
{
	if (mm_store(b, first, count, kind, sign, c, 0))
		mm_fail("storing to buffer %d: signal %d", b, sh->last_signal);
}

static void mm_print_values(const char *key, const int64_t *v, long n)
{
	char list[7000];
	int len = 0;
	list[len++] = '[';
	for (long i = 0; i < n && len < (int)sizeof(list) - 24; i++)
		len += v[i] < 0 ? snprintf(list + len, sizeof(list) - len, "%s\"mixed\"", i ? "," : "")
				: snprintf(list + len, sizeof(list) - len, "%s\"0x%llx\"", i ? "," : "",
					   (unsigned long long)v[i]);
	list[len++] = ']';
	list[len] = 0;
	mm_print("\"got\":{\"%s\":%s}", key, list);
}

/* "P read V": the values of P's last load. */
static void mm_obs_read(void)
{
	mm_print_values("read", sh->read_value[mm_me], sh->read_count[mm_me]);
}

/* "pages in P hold V": a load by P now, without keeping it as P's read. */
static void mm_obs_holds(int b, long first, long count)
{
	long keep = sh->read_count[mm_me];
	int64_t save[MM_MAX_READ];
	memcpy(save, sh->read_value[mm_me], sizeof(save));
	int sig = mm_load(b, first, count);
	if (sig)
		mm_print("\"got\":{\"signal\":%d}", sig);
	else
		mm_print_values("holds", sh->read_value[mm_me], sh->read_count[mm_me]);
	memcpy(sh->read_value[mm_me], save, sizeof(save));
	sh->read_count[mm_me] = keep;
}

static void mm_obs_signal(void)
{
	const char *s = sh->last_signal == SIGSEGV ? "SIGSEGV" : sh->last_signal == SIGBUS ? "SIGBUS" : "none";
	mm_print("\"got\":{\"signal\":\"%s\"}", s);
}

/* Check a pattern over ints (the CPU's view, or a mirror); print the first int that differs, or null. */
static void mm_obs_pattern_in(const int *base, long first, long count, int kind, int sign, int c)
{
	for (long k = first; k < first + count; k++)
		for (long j = 0; j < (long)MM_INTS; j++) {
			int got = base[(k - first) * MM_INTS + j];
			if (got != mm_pattern(kind, sign, c, k, j)) {
				mm_print("\"got\":{\"mismatch\":{\"page\":%ld,\"int\":%ld,\"value\":%d}}", k, j, got);
				return;
			}
		}
	mm_print("\"got\":{\"mismatch\":null}");
}

static void mm_obs_pattern(int b, long first, long count, int kind, int sign, int c)
{
	volatile long k = first;
	int sig = sigsetjmp(mm_jmp, 1);
	if (sig) {
		mm_print("\"got\":{\"signal\":%d,\"page\":%ld}", sig, (long)k);
		return;
	}
	/* Fault every page in first, page by page, as the C test's loop does. */
	for (; k < first + count; k++)
		(void)*(volatile int *)mm_addr(b, k);
	mm_obs_pattern_in((const int *)mm_addr(b, first), first, count, kind, sign, c);
}

/* "P reads ptr[n]": one int load. */
static void mm_load_int(int b, long n)
{
	int sig = sigsetjmp(mm_jmp, 1);
	if (sig) {
		sh->last_signal = sig;
		sh->load_ok = 0;
		return;
	}
	sh->load = ((volatile int *)mm_addr(b, 0))[n];
	sh->load_ok = 1;
	sh->last_signal = 0;
}

static void mm_obs_load(void)
{
	if (sh->load_ok)
		mm_print("\"got\":{\"load\":%lld}", (long long)sh->load);
	else
		mm_print("\"got\":{\"load\":null}");
}

/* ---- the dmirror bounce buffer (hmm-tests.c buffer->mirror), per process ---- */

/*
 * A mirror lives far from the scenario's own mappings (the engine's mirror is
 * no part of the address space): a calloc'd one would be placed by mmap in
 * whatever hole a scenario just unmapped, and a later MREMAP_FIXED or mmap
 * there would clobber it or be moved by it.
 */
#define MM_MIRROR_BASE 0x500000000000UL
static int *mm_mirror_of(int b)
{
	if (!mm_mirror[b]) {
		void *p = mmap((void *)(MM_MIRROR_BASE + ((uintptr_t)b << 36)), sh->pages[b] * MM_PAGE,
			       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			mm_fail("mmap of the mirror of buffer %d: %s", b, strerror(errno));
		mm_mirror[b] = p;
	}
	return mm_mirror[b];
}

static void mm_mirror_set(int b, long first, long count, int kind, int sign, int c)
{
	int *m = mm_mirror_of(b);
	for (long k = first; k < first + count; k++)
		for (long j = 0; j < (long)MM_INTS; j++)
			m[k * MM_INTS + j] = mm_pattern(kind, sign, c, k, j);
}

static void mm_obs_mirror(int b, long first, long count, int kind, int sign, int c)
{
	mm_obs_pattern_in(mm_mirror_of(b) + first * MM_INTS, first, count, kind, sign, c);
}

/* ---- /dev/hmm_dmirror ---- */

static int mm_dev(int n)
{
	if (mm_dev_fd[n] < 0) {
		char path[32];
		snprintf(path, sizeof(path), "/dev/hmm_dmirror%d", n);
		mm_dev_fd[n] = open(path, O_RDWR, 0);
		if (mm_dev_fd[n] < 0)
			mm_fail("open %s: %s", path, strerror(errno));
	}
	return mm_dev_fd[n];
}

static void mm_close_dev(int n)
{
	if (mm_dev_fd[n] >= 0)
		close(mm_dev_fd[n]);
	mm_dev_fd[n] = -1;
}

/* hmm-tests.c hmm_dmirror_cmd(): the ioctl, with the buffer's mirror as its bounce buffer. */
static void mm_dmirror_fd(int fd, unsigned long request, int b, long first, long count)
{
	struct hmm_dmirror_cmd cmd = { 0 };
	cmd.addr = (uintptr_t)mm_addr(b, first);
	cmd.ptr = (uintptr_t)(mm_mirror_of(b) + first * MM_INTS);
	cmd.npages = count;
	int ret;
	do {
		ret = ioctl(fd, request, &cmd);
	} while (ret == -1 && errno == EINTR);
	sh->cmd_ret = ret ? -errno : 0;
	sh->cmd_cpages = cmd.cpages;
	sh->cmd_faults = cmd.faults;
	sh->cmd_npages = count;
	sh->cmd_b = b;
	sh->cmd_first = first;
	if (!ret && request == HMM_DMIRROR_SNAPSHOT)
		memcpy(sh->snapshot, (void *)(uintptr_t)cmd.ptr, count < MM_MAX_READ ? count : MM_MAX_READ);
}

static void mm_dmirror(int dev, unsigned long request, int b, long first, long count)
{
	mm_dmirror_fd(mm_dev(dev), request, b, first, count);
}

/* HMM_DMIRROR_FLAGS: the flags go in npages (hmm-tests.c passes them so); b < 0: no buffer. */
static void mm_dmirror_flags(int dev, int b, uint64_t flags)
{
	struct hmm_dmirror_cmd cmd = { 0 };
	cmd.addr = b < 0 ? 0 : (uintptr_t)mm_addr(b, 0);
	cmd.npages = flags;
	int ret = ioctl(mm_dev(dev), HMM_DMIRROR_FLAGS, &cmd);
	sh->cmd_ret = ret ? -errno : 0;
	sh->cmd_cpages = cmd.cpages;
	sh->cmd_faults = cmd.faults;
	sh->cmd_npages = 0;
}

/* HMM_DMIRROR_RELEASE: dmirror_device_remove_chunks(), every chunk of the device evicted and unmapped. */
static void mm_dmirror_release(int dev)
{
	struct hmm_dmirror_cmd cmd = { .npages = 1 };
	if (ioctl(mm_dev(dev), HMM_DMIRROR_RELEASE, &cmd))
		mm_fail("HMM_DMIRROR_RELEASE: %s", strerror(errno));
}

static void mm_obs_cmd(int with_cpages, int with_faults)
{
	char extra[96] = "";
	int n = 0;
	if (with_cpages)
		n += snprintf(extra + n, sizeof(extra) - n, ",\"cpages\":%llu", (unsigned long long)sh->cmd_cpages);
	if (with_faults)
		snprintf(extra + n, sizeof(extra) - n, ",\"faults\":%llu", (unsigned long long)sh->cmd_faults);
	mm_print("\"got\":{\"ret\":\"%s\"%s}", mm_errname(-sh->cmd_ret), extra);
}

static void mm_obs_snapshot(void)
{
	char list[6000];
	int len = 0;
	list[len++] = '[';
	for (uint64_t i = 0; i < sh->cmd_npages && i < MM_MAX_READ && len < (int)sizeof(list) - 12; i++)
		len += snprintf(list + len, sizeof(list) - len, "%s\"0x%02x\"", i ? "," : "", sh->snapshot[i]);
	list[len++] = ']';
	list[len] = 0;
	mm_print("\"got\":{\"ret\":\"%s\",\"bytes\":%s}", mm_errname(-sh->cmd_ret), list);
}

/* The device writes a value to every int of the pages: the mirror holds it, HMM_DMIRROR_WRITE sends it. */
static void mm_dmirror_write_value(int dev, int b, long first, long count, unsigned value)
{
	int *m = mm_mirror_of(b);
	for (long i = first * MM_INTS; i < (first + count) * (long)MM_INTS; i++)
		m[i] = (int)value;
	mm_dmirror(dev, HMM_DMIRROR_WRITE, b, first, count);
}

/* What the last READ brought back: one value per page of its bounce buffer. */
static void mm_obs_device_saw(void)
{
	int64_t v[MM_MAX_READ];
	long n = sh->cmd_npages < MM_MAX_READ ? sh->cmd_npages : MM_MAX_READ;
	const int *m = mm_mirror_of(sh->cmd_b) + sh->cmd_first * MM_INTS;
	for (long k = 0; k < n; k++)
		v[k] = mm_page_value(m + k * MM_INTS);
	mm_print_values("device saw", v, n);
}

/* hmm-tests.c exclusive: ASSERT_EQ(ptr[i]++, i) over every int; prints the first int that did not hold the pattern before. */
static void mm_post_increment(int b, long first, long count, int kind, int sign, int c)
{
	volatile long k = first;
	int sig = sigsetjmp(mm_jmp, 1);
	if (sig) {
		mm_print("\"got\":{\"signal\":%d,\"page\":%ld}", sig, (long)k);
		return;
	}
	for (; k < first + count; k++) {
		int *p = (int *)mm_addr(b, k);
		for (long j = 0; j < (long)MM_INTS; j++) {
			int want = mm_pattern(kind, sign, c, k, j);
			int got = p[j]++;
			if (got != want) {
				mm_print("\"got\":{\"mismatch\":{\"page\":%ld,\"int\":%ld,\"value\":%d}}", (long)k, j, got);
				return;
			}
		}
	}
	mm_print("\"got\":{\"mismatch\":null}");
}

static void mm_obs_faults(void)
{
	mm_print("\"got\":{\"faults\":%ld}", sh->faults[mm_me]);
}

/* ---- the machine, files, and the mm calls ---- */

static void mm_sysfs(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		mm_fail("writing %s to %s: %s", value, path, strerror(errno));
	close(fd);
}

static void mm_thp(const char *mode)
{
	mm_sysfs("/sys/kernel/mm/transparent_hugepage/enabled", mode);
}

/* cow.c clear_softdirty(): echo 4 > /proc/self/clear_refs. */
static void mm_clear_refs(void)
{
	mm_sysfs("/proc/self/clear_refs", "4");
}

/* "a file F of N pages, page i holding V + i": on the guest's tmpfs, every int of page i V + i. */
static void mm_make_file(const char *name, long pages, unsigned base)
{
	char path[96];
	snprintf(path, sizeof(path), MM_FILES "/mmspec-%s", name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		mm_fail("creating %s: %s", path, strerror(errno));
	int *page = malloc(MM_PAGE);
	for (long i = 0; i < pages; i++) {
		for (long j = 0; j < (long)MM_INTS; j++)
			page[j] = (int)(base + i);
		if (pwrite(fd, page, MM_PAGE, i * MM_PAGE) != (ssize_t)MM_PAGE)
			mm_fail("writing %s: %s", path, strerror(errno));
	}
	free(page);
	close(fd);
}

/* hmm_create_file(): a file of holes, `pages` long. */
static void mm_make_hole_file(const char *name, long pages)
{
	char path[96];
	snprintf(path, sizeof(path), MM_FILES "/mmspec-%s", name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, pages * MM_PAGE))
		mm_fail("creating %s: %s", path, strerror(errno));
	close(fd);
}

/* pwrite() of `pages` pages of a pattern at offset 0. */
static void mm_pwrite_pattern(const char *name, long pages, int kind, int sign, int c)
{
	char path[96];
	snprintf(path, sizeof(path), MM_FILES "/mmspec-%s", name);
	int fd = open(path, O_RDWR);
	int *buf = malloc(pages * MM_PAGE);
	for (long k = 0; k < pages; k++)
		for (long j = 0; j < (long)MM_INTS; j++)
			buf[k * MM_INTS + j] = mm_pattern(kind, sign, c, k, j);
	if (fd < 0 || pwrite(fd, buf, pages * MM_PAGE, 0) != (ssize_t)(pages * MM_PAGE))
		mm_fail("pwrite %s: %s", path, strerror(errno));
	free(buf);
	close(fd);
}

/* pread() of `pages` pages at offset 0 into the mirror of buffer b. */
static void mm_pread_mirror(const char *name, long pages, int b)
{
	char path[96];
	snprintf(path, sizeof(path), MM_FILES "/mmspec-%s", name);
	int fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, mm_mirror_of(b), pages * MM_PAGE, 0) != (ssize_t)(pages * MM_PAGE))
		mm_fail("pread %s: %s", path, strerror(errno));
	close(fd);
}

static void mm_map_file_prot(int b, const char *name, int prot, int flags)
{
	char path[96];
	snprintf(path, sizeof(path), MM_FILES "/mmspec-%s", name);
	int fd = open(path, prot & PROT_WRITE ? O_RDWR : O_RDONLY);
	if (fd < 0)
		mm_fail("open %s: %s", path, strerror(errno));
	off_t size = lseek(fd, 0, SEEK_END);
	void *p = mmap(NULL, size, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		mm_fail("mmap of %s: %s", path, strerror(errno));
	close(fd);
	sh->addr[b] = (uintptr_t)p;
	sh->pages[b] = size / MM_PAGE;
}

static void mm_map_file(int b, const char *name, int flags)
{
	mm_map_file_prot(b, name, PROT_READ | PROT_WRITE, flags);
}

/* "P stores V to ptr[n]": one int. */
static void mm_store_int(int b, long n, int value)
{
	if (sigsetjmp(mm_jmp, 1))
		mm_fail("storing to ptr[%ld] of buffer %d: a signal", n, b);
	((volatile int *)mm_addr(b, 0))[n] = value;
}

/* hmm-tests.c mixedmap: mmap() of the device file itself, private. */
static void mm_map_devfile(int b, int dev, long pages)
{
	void *p = mmap(NULL, pages * MM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, mm_dev(dev), 0);
	if (p == MAP_FAILED)
		mm_fail("mmap of /dev/hmm_dmirror%d: %s", dev, strerror(errno));
	sh->addr[b] = (uintptr_t)p;
	sh->pages[b] = pages;
}

/* HugePages_Free and HugePages_Rsvd of /proc/meminfo. */
static void mm_obs_hugetlb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long free_ = -1, rsvd = -1;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Free: %ld", &free_);
		sscanf(line, "HugePages_Rsvd: %ld", &rsvd);
	}
	if (f)
		fclose(f);
	mm_print("\"got\":{\"free\":%ld,\"reserved\":%ld}", free_, rsvd);
}

/* The gup_test ioctls (mm/gup_test.c) other than the long-term pin: GUP_FAST_BENCHMARK, PIN_BASIC_TEST…; their return and size. */
static long mm_gup_ret, mm_gup_size;
static void mm_gup_test(unsigned long cmd, int b, long first, long count, unsigned flags)
{
	if (mm_gup_fd < 0)
		mm_gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	struct gup_test g = { 0 };
	g.addr = (uintptr_t)mm_addr(b, first);
	g.size = count * MM_PAGE;
	g.nr_pages_per_call = 1;
	g.gup_flags = flags;
	int ret = ioctl(mm_gup_fd, cmd, &g);
	mm_gup_ret = ret ? -errno : 0;
	mm_gup_size = g.size;
	sh->last_errno = mm_gup_ret;
}

static void mm_obs_gup_test(void)
{
	mm_print("\"got\":{\"ret\":\"%s\",\"size\":%ld}", mm_errname(-mm_gup_ret), mm_gup_size);
}

static int mm_kill_ret;
static void mm_kill(int p)
{
	mm_kill_ret = kill(sh->pid[p], SIGKILL) ? -errno : 0;
}

static void mm_obs_kill(void)
{
	mm_print("\"got\":{\"kill\":%d}", mm_kill_ret);
}

/* waitpid(pid, &status, 0) in the parent: the pid it returned, and how the child ended. */
static void mm_obs_waitpid(int p)
{
	int status = 0;
	pid_t got = waitpid(sh->pid[p], &status, 0);
	if (WIFEXITED(status))
		mm_print("\"got\":{\"pid\":%s,\"exited\":%d,\"signal\":null}", got == sh->pid[p] ? "true" : "false",
			 WEXITSTATUS(status));
	else
		mm_print("\"got\":{\"pid\":%s,\"exited\":null,\"signal\":%d}", got == sh->pid[p] ? "true" : "false",
			 WIFSIGNALED(status) ? WTERMSIG(status) : -1);
}

static void mm_nr_hugepages(long n)
{
	char v[32];
	snprintf(v, sizeof(v), "%ld", n);
	mm_sysfs("/proc/sys/vm/nr_hugepages", v);
}

/* hmm-tests.c's child_fd = hmm_open(n) */
static void mm_open_child(int n)
{
	char path[32];
	snprintf(path, sizeof(path), "/dev/hmm_dmirror%d", n);
	mm_child_fd = open(path, O_RDWR, 0);
	if (mm_child_fd < 0)
		mm_fail("open %s: %s", path, strerror(errno));
}

/* mremap(MREMAP_MAYMOVE | MREMAP_FIXED [| MREMAP_DONTUNMAP]) of a whole buffer to `kib` KiB past its end. */
static void mm_mremap_flags(int b, long kib, int dontunmap)
{
	uintptr_t old = sh->addr[b], target = old + sh->pages[b] * MM_PAGE + kib * 1024;
	void *p = mremap((void *)old, sh->pages[b] * MM_PAGE, sh->pages[b] * MM_PAGE,
			 MREMAP_MAYMOVE | MREMAP_FIXED | (dontunmap ? MREMAP_DONTUNMAP : 0), (void *)target);
	if (p != (void *)target)
		mm_fail("mremap: %s", strerror(errno));
	sh->addr[b] = target;
}

static void mm_mremap(int b, long kib)
{
	mm_mremap_flags(b, kib, 0);
}

/* "buffer A still points at buffer B": the kept pointer against the buffer's address now. */
static void mm_obs_same_address(int a, int b)
{
	mm_print("\"got\":{\"same address\":%s}", sh->addr[a] == sh->addr[b] ? "true" : "false");
}

/* "the page behind … is called N" / "… is page N": a PFN, kept and compared (pagemap shows PFNs to root). */
static void mm_name_page(int b, long page, int slot)
{
	int64_t pfn = mm_entry_pfn(mm_pagemap((uintptr_t)mm_addr(b, page)));
	if (pfn < 0)
		mm_fail("page %ld of buffer %d maps no page, so it has no PFN to name", page, b);
	sh->named[slot] = pfn;
}

static void mm_obs_is_page(int b, long first, long count, int slot)
{
	long is = 0;
	for (long k = first; k < first + count; k++) {
		is += mm_entry_pfn(mm_pagemap((uintptr_t)mm_addr(b, k))) == (int64_t)sh->named[slot];
	}
	mm_print("\"got\":{\"is\":%ld}", is);
}

/* "P has N VMAs over buffer B": the lines of /proc/self/maps that overlap it. */
static void mm_obs_vmas(int b)
{
	FILE *f = fopen("/proc/self/maps", "r");
	uintptr_t lo = sh->addr[b], hi = lo + sh->pages[b] * MM_PAGE, s, e;
	long n = 0;
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s < hi && e > lo)
			n++;
	if (f)
		fclose(f);
	mm_print("\"got\":{\"vmas\":%ld}", n);
}

/* ---- pagemap: what userspace can see of a page table entry ---- */


static uint64_t mm_pagemap(uintptr_t addr)
{
	if (mm_pagemap_fd < 0)
		mm_pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	if (pread(mm_pagemap_fd, &e, 8, (addr / MM_PAGE) * 8) != 8)
		mm_fail("pread /proc/self/pagemap: %s", strerror(errno));
	return e;
}

/* PAGEMAP_SCAN's categories of one page (fs/proc/task_mmu.c pagemap_page_category/pagemap_thp_category). */
static uint64_t mm_categories(uintptr_t addr)
{
	struct page_region r = { 0 };
	struct pm_scan_arg arg = { 0 };
	arg.size = sizeof(arg);
	arg.start = addr;
	arg.end = addr + MM_PAGE;
	arg.vec = (uintptr_t)&r;
	arg.vec_len = 1;
	arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_PFNZERO | PAGE_IS_HUGE |
			  PAGE_IS_SOFT_DIRTY | PAGE_IS_FILE;
	if (mm_pagemap_fd < 0)
		mm_pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	long n = ioctl(mm_pagemap_fd, PAGEMAP_SCAN, &arg);
	if (n < 0)
		mm_fail("PAGEMAP_SCAN: %s", strerror(errno));
	return n ? r.categories : 0;
}

/*
 * The state of a page as userspace sees it, in the engine's words where they
 * can be told apart: "not mapped", "the zero page", "the huge zero page",
 * "mapped" (a PTE; its writability is not shown), "PMD-mapped",
 * "device-private, writable|read-only", "a migration entry",
 * "device-exclusive", "swapped out".
 */
static const char *mm_state(uintptr_t addr)
{
	uint64_t e = mm_pagemap(addr);
	if (e & (1ULL << 62)) {
		unsigned type = e & 0x1f;
		if (type == MM_SWP_DEVICE_WRITE)
			return "device-private, writable";
		if (type == MM_SWP_DEVICE_READ)
			return "device-private, read-only";
		if (type == MM_SWP_DEVICE_EXCLUSIVE)
			return "device-exclusive";
		if (type >= MM_SWP_MIGRATION_READ && type < MM_SWP_MIGRATION_READ + 3)
			return "a migration entry";
		return "swapped out";
	}
	if (!(e & (1ULL << 63)))
		return "not mapped";
	uint64_t c = mm_categories(addr);
	if (c & PAGE_IS_PFNZERO)
		return c & PAGE_IS_HUGE ? "the huge zero page" : "the zero page";
	return c & PAGE_IS_HUGE ? "PMD-mapped" : "mapped";
}

/*
 * The PFN a pagemap entry names: a present page's, or the page a PFN swap
 * entry (device-private, device-exclusive, migration) points at, whose
 * frame pte_to_pagemap_entry() writes as type | pfn << MAX_SWAPFILES_SHIFT.
 * Returns -1 for none (an empty entry, a real swap entry).
 */
static int64_t mm_entry_pfn(uint64_t e)
{
	uint64_t frame = e & ((1ULL << 55) - 1);
	if (e & (1ULL << 63))
		return frame;
	if (e & (1ULL << 62)) {
		unsigned type = frame & 0x1f;
		if ((type >= MM_SWP_MIGRATION_READ && type < MM_SWP_MIGRATION_READ + 3) || type == MM_SWP_DEVICE_WRITE ||
		    type == MM_SWP_DEVICE_READ || type == MM_SWP_DEVICE_EXCLUSIVE)
			return frame >> 5;
	}
	return -1;
}

/* Where the page's memory is: system RAM, device-private or device-coherent memory. */
static const char *mm_memory(uintptr_t addr)
{
	uint64_t e = mm_pagemap(addr);
	if (e & (1ULL << 62)) {
		unsigned type = e & 0x1f;
		if (type == MM_SWP_DEVICE_WRITE || type == MM_SWP_DEVICE_READ)
			return "device-private memory";
	}
	int64_t p = mm_entry_pfn(e);
	if (p < 0)
		return "not present";
	uint64_t pfn = p;
	if (pfn >= MM_COHERENT_FIRST_PFN && pfn < MM_COHERENT_END_PFN)
		return "device-coherent memory";
	return "system RAM";
}

/* One string per page, runs of the same string folded: ["mapped x512"]. */
static void mm_obs_pages(const char *key, int b, long first, long count, const char *(*what)(uintptr_t))
{
	char list[6000];
	int len = 0;
	list[len++] = '[';
	const char *run = NULL;
	long n = 0;
	for (long k = first; k <= first + count; k++) {
		const char *s = k < first + count ? what((uintptr_t)mm_addr(b, k)) : NULL;
		if (run && (!s || strcmp(s, run))) {
			len += snprintf(list + len, sizeof(list) - len, "%s\"%s x%ld\"", len > 1 ? "," : "", run, n);
			n = 0;
		}
		run = s;
		n++;
		if (len > (int)sizeof(list) - 64)
			break;
	}
	list[len++] = ']';
	list[len] = 0;
	mm_print("\"got\":{\"%s\":%s}", key, list);
}

static void mm_obs_state(int b, long first, long count)
{
	mm_obs_pages("state", b, first, count, mm_state);
}

static void mm_obs_memory(int b, long first, long count)
{
	mm_obs_pages("memory", b, first, count, mm_memory);
}

/* hmm-tests.c's pagemap_get_entry() over a range, kept for the Then-step. */
static void mm_read_pagemap(int b, long first, long count)
{
	sh->pm_count = 0;
	for (long k = first; k < first + count && k - first < MM_MAX_READ; k++)
		sh->pm[sh->pm_count++] = mm_pagemap((uintptr_t)mm_addr(b, k));
}

/* Of the entries read: how many have bit_set set, and how many have bit_clear clear. */
static void mm_obs_pagemap_bits(int bit_set, int bit_clear)
{
	long set = 0, clear = 0;
	for (long k = 0; k < sh->pm_count; k++) {
		set += !!(sh->pm[k] & (1ULL << bit_set));
		clear += !(sh->pm[k] & (1ULL << bit_clear));
	}
	mm_print("\"got\":{\"set\":%ld,\"clear\":%ld}", set, clear);
}

/* "P and Q map pages to the same page": their present PFNs, compared page by page (root reads /proc/<pid>/pagemap). */
static uint64_t mm_pagemap_of(int p, uintptr_t addr)
{
	char path[40];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", sh->pid[p]);
	int fd = open(path, O_RDONLY);
	uint64_t e = 0;
	if (fd < 0 || pread(fd, &e, 8, (addr / MM_PAGE) * 8) != 8)
		mm_fail("pread %s: %s", path, strerror(errno));
	close(fd);
	return e;
}

static void mm_obs_same(int b, long first, long count, int p, int q)
{
	long same = 0, different = 0, absent = 0;
	for (long k = first; k < first + count; k++) {
		int64_t a = mm_entry_pfn(mm_pagemap_of(p, (uintptr_t)mm_addr(b, k)));
		int64_t c = mm_entry_pfn(mm_pagemap_of(q, (uintptr_t)mm_addr(b, k)));
		if (a < 0 || c < 0)
			absent++;
		else if (a == c)
			same++;
		else
			different++;
	}
	mm_print("\"got\":{\"same\":%ld,\"different\":%ld,\"not present\":%ld}", same, different, absent);
}

/* ---- GUP: a vmsplice() pipe, a gup_test long-term pin ---- */

static struct mm_grab *mm_grab_of(int b, long first)
{
	for (int i = 0; i < mm_ngrabs; i++)
		if (mm_grabs[i].first == first + (long)b * 1000000)
			return &mm_grabs[i];
	return NULL;
}

/* cow.c do_test_vmsplice_in_child(): vmsplice() the pages into a pipe, a read-only FOLL_GET reference. */
static void mm_vmsplice(int b, long first, long count)
{
	struct mm_grab *g = &mm_grabs[mm_ngrabs++];
	g->kind = 1;
	g->first = first + (long)b * 1000000;
	g->count = count;
	if (pipe(g->fd))
		mm_fail("pipe: %s", strerror(errno));
	int size = count * MM_PAGE;
	if (fcntl(g->fd[1], F_SETPIPE_SZ, size < 65536 ? 65536 : size) < 0)
		mm_fail("F_SETPIPE_SZ: %s", strerror(errno));
	struct iovec iov = { .iov_base = mm_addr(b, first), .iov_len = count * MM_PAGE };
	ssize_t n = vmsplice(g->fd[1], &iov, 1, 0);
	/*
	 * GUP refused the range (a PROT_NONE mapping: -EFAULT): the errno is the
	 * step's outcome, for "pinning fails with E" to compare; nothing is held.
	 */
	if (n < 0) {
		sh->last_errno = -errno;
		close(g->fd[0]);
		close(g->fd[1]);
		mm_ngrabs--;
		return;
	}
	if (n != (ssize_t)(count * MM_PAGE))
		mm_fail("vmsplice: %zd of %ld bytes", n, count * MM_PAGE);
	sh->last_errno = 0;
}

/* cow.c do_test_ro_pin() / iouring: a gup_test pin (PIN_LONGTERM_TEST_START), optionally by GUP-fast. */
static void mm_pin(int b, long first, long count, int write, int longterm, int fast)
{
	if (mm_gup_fd < 0) {
		mm_gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
		if (mm_gup_fd < 0)
			mm_fail("open /sys/kernel/debug/gup_test: %s", strerror(errno));
	}
	if (!longterm)
		mm_fail("gup_test pins long-term only (PIN_LONGTERM_TEST_START)");
	struct pin_longterm_test args = {
		.addr = (uintptr_t)mm_addr(b, first),
		.size = count * MM_PAGE,
		.flags = (write ? PIN_LONGTERM_TEST_FLAG_USE_WRITE : 0) | (fast ? PIN_LONGTERM_TEST_FLAG_USE_FAST : 0),
	};
	int ret = ioctl(mm_gup_fd, PIN_LONGTERM_TEST_START, &args);
	sh->last_errno = ret ? -errno : 0;
	if (ret)
		return;
	struct mm_grab *g = &mm_grabs[mm_ngrabs++];
	g->kind = 2;
	g->first = first + (long)b * 1000000;
	g->count = count;
}

static void mm_release(int b, long first)
{
	struct mm_grab *g = mm_grab_of(b, first);
	if (!g)
		mm_fail("nothing grabbed of buffer %d page %ld", b, first);
	if (g->kind == 1) {
		close(g->fd[0]);
		close(g->fd[1]);
	} else if (ioctl(mm_gup_fd, PIN_LONGTERM_TEST_STOP))
		mm_fail("PIN_LONGTERM_TEST_STOP: %s", strerror(errno));
	*g = mm_grabs[--mm_ngrabs];
}

/* What the pipe or the pin reads back: one value per page, as "holds" prints it. */
static void mm_obs_grabbed(int b, long first)
{
	struct mm_grab *g = mm_grab_of(b, first);
	if (!g)
		mm_fail("nothing grabbed of buffer %d page %ld", b, first);
	int *tmp = malloc(g->count * MM_PAGE);
	if (g->kind == 1) {
		ssize_t got = 0;
		while (got < (ssize_t)(g->count * MM_PAGE)) {
			ssize_t n = read(g->fd[0], (char *)tmp + got, g->count * MM_PAGE - got);
			if (n <= 0)
				mm_fail("reading the pipe: %s", strerror(errno));
			got += n;
		}
	} else {
		uint64_t addr = (uintptr_t)tmp;
		if (ioctl(mm_gup_fd, PIN_LONGTERM_TEST_READ, &addr))
			mm_fail("PIN_LONGTERM_TEST_READ: %s", strerror(errno));
	}
	int64_t v[MM_MAX_READ];
	long n = g->count < MM_MAX_READ ? g->count : MM_MAX_READ;
	for (long k = 0; k < n; k++)
		v[k] = mm_page_value(tmp + k * MM_INTS);
	free(tmp);
	mm_print_values("grabbed", v, n);
}

static void mm_obs_errno(void)
{
	mm_print("\"got\":{\"errno\":\"%s\"}", mm_errname(-sh->last_errno));
}

/* ---- rounds of a looping test (hmm-tests.c's NTIMES loops; steps/hmm_tests_migrate_steps.ts) ---- */

#define MM_ROUNDS 16
/* Each round's ioctls (0 READ, 1 MIGRATE_TO_DEV, 2 MIGRATE_TO_SYS) and its read-back. */
static struct {
	struct {
		int ran, ret, mirror_ok;
		long cpages, faults;
	} io[3];
	int read_ran, read_sig, read_ok;
} mm_rnd[MM_ROUNDS];
static int mm_nrounds;

/* Whether every int i of the pages holds i + fill (ptr[i] = i + c). */
static int mm_holds_linear(const volatile int *p, long pages, int fill)
{
	for (long i = 0; i < pages * (long)MM_INTS; i++)
		if (p[i] != (int)i + fill)
			return 0;
	return 1;
}

static int mm_round_ioctl(int dev, int which, unsigned long request, int b, long pages, int fill)
{
	mm_dmirror(dev, request, b, 0, pages);
	typeof(mm_rnd[0].io[0]) *r = &mm_rnd[mm_nrounds].io[which];
	r->ran = 1;
	r->ret = sh->cmd_ret;
	r->cpages = r->ret ? -1 : (long)sh->cmd_cpages;
	r->faults = r->ret ? -1 : (long)sh->cmd_faults;
	r->mirror_ok = !r->ret && mm_holds_linear(mm_mirror_of(b), pages, fill);
	return r->ret;
}

/* The CPU's read-back of a round: its signal (0: none), and whether ptr[i] == i + fill. */
static void mm_round_read(int b, long pages, int fill)
{
	mm_rnd[mm_nrounds].read_ran = 1;
	int sig = sigsetjmp(mm_jmp, 1);
	if (sig) {
		mm_rnd[mm_nrounds].read_sig = sig;
		return;
	}
	mm_rnd[mm_nrounds].read_ok = mm_holds_linear((const volatile int *)mm_addr(b, 0), pages, fill);
}

/*
 * n rounds on a new buffer b each (hmm_buffer_alloc: mmap and a fresh
 * mirror; hmm_buffer_free: munmap). op 0: ptr[i] = i + c, HMM_DMIRROR_READ;
 * op 1: ptr[i] = i, MIGRATE_TO_DEV, read back; op 2: the same with
 * MIGRATE_TO_SYS after a MIGRATE_TO_DEV that returned 0.
 */
static void mm_rounds(int dev, int op, int n, int b, long pages)
{
	if (n > MM_ROUNDS)
		mm_fail("%d rounds: mmspec.h keeps %d", n, MM_ROUNDS);
	memset(mm_rnd, 0, sizeof(mm_rnd));
	for (mm_nrounds = 0; mm_nrounds < n; mm_nrounds++) {
		int fill = op == 0 ? mm_nrounds : 0;
		mm_map(b, pages, PROT_READ | PROT_WRITE, MAP_PRIVATE);
		mm_set(b, 0, pages, 2, 1, fill);
		memset(mm_mirror_of(b), 0, pages * MM_PAGE);
		if (op == 0)
			mm_round_ioctl(dev, 0, HMM_DMIRROR_READ, b, pages, fill);
		else {
			if (!mm_round_ioctl(dev, 1, HMM_DMIRROR_MIGRATE_TO_DEV, b, pages, fill) && op == 2)
				mm_round_ioctl(dev, 2, HMM_DMIRROR_MIGRATE_TO_SYS, b, pages, fill);
			mm_round_read(b, pages, fill);
		}
		mm_unmap(b, 0, pages);
	}
}

/* Each round's ioctl `which`: {"ret","cpages"[,"faults"][,"mirror"]}, or null where it did not run. */
static void mm_obs_rounds(int which, int with_faults, int with_mirror)
{
	char j[4096];
	int k = 0;
	for (int c = 0; c < mm_nrounds && k < (int)sizeof(j) - 128; c++) {
		typeof(mm_rnd[0].io[0]) *r = &mm_rnd[c].io[which];
		k += snprintf(j + k, sizeof(j) - k, "%s", c ? "," : "");
		if (!r->ran) {
			k += snprintf(j + k, sizeof(j) - k, "null");
			continue;
		}
		k += snprintf(j + k, sizeof(j) - k, "{\"ret\":\"%s\",\"cpages\":%ld", mm_errname(-r->ret), r->cpages);
		if (with_faults)
			k += snprintf(j + k, sizeof(j) - k, ",\"faults\":%ld", r->faults);
		if (with_mirror)
			k += snprintf(j + k, sizeof(j) - k, ",\"mirror\":%s", r->mirror_ok ? "true" : "false");
		k += snprintf(j + k, sizeof(j) - k, "}");
	}
	mm_print("\"got\":{\"rounds\":[%s]}", j);
}

/* Each round's read-back: {"fault","holds"}, or null where none ran. */
static void mm_obs_rounds_read(void)
{
	char j[4096];
	int k = 0;
	for (int c = 0; c < mm_nrounds && k < (int)sizeof(j) - 64; c++)
		k += mm_rnd[c].read_ran ? snprintf(j + k, sizeof(j) - k, "%s{\"fault\":%s,\"holds\":%s}", c ? "," : "",
						   mm_rnd[c].read_sig ? "true" : "false",
						   mm_rnd[c].read_ok ? "true" : "false") :
					  snprintf(j + k, sizeof(j) - k, "%snull", c ? "," : "");
	mm_print("\"got\":{\"rounds\":[%s]}", j);
}

/* ---- the semantics matrix (steps/matrix_steps.ts, support/matrix.ts) ---- */

/* One process's view of the page, as support/matrix.ts visibleOutcome() states it; pfn -1: none. */
struct mm_msnap {
	int64_t pfn;
	const char *memory, *kind;
};

static struct {
	struct mm_msnap before, after, other_before, other_after;
	int forked, exclusive_lost, ret;
	int64_t pinned;
} mm_mx;

/* /proc/kpageflags KPF_ZERO_PAGE (include/uapi/linux/kernel-page-flags.h). */
static int mm_is_zero_pfn(uint64_t pfn)
{
	int fd = open("/proc/kpageflags", O_RDONLY);
	uint64_t f = 0;
	if (fd < 0 || pread(fd, &f, 8, pfn * 8) != 8)
		mm_fail("pread /proc/kpageflags: %s", strerror(errno));
	close(fd);
	return !!(f & (1ULL << 24));
}

/* A pagemap entry as the engine's entry_view kind and folio memory (support/matrix.ts snapshot). */
static struct mm_msnap mm_matrix_snap(uint64_t e)
{
	struct mm_msnap s = { -1, "nothing", "none" };
	int64_t pfn = mm_entry_pfn(e);
	if (e & (1ULL << 62)) {
		unsigned type = e & 0x1f;
		s.kind = type == MM_SWP_DEVICE_WRITE	       ? "SOFTLEAF_DEVICE_PRIVATE_WRITE" :
			 type == MM_SWP_DEVICE_READ	       ? "SOFTLEAF_DEVICE_PRIVATE_READ" :
			 type == MM_SWP_DEVICE_EXCLUSIVE       ? "SOFTLEAF_DEVICE_EXCLUSIVE" :
			 type >= MM_SWP_MIGRATION_READ && type < MM_SWP_MIGRATION_READ + 3 ? "SOFTLEAF_MIGRATION" :
										 "SOFTLEAF_SWAP";
		if (pfn >= 0) {
			s.pfn = pfn;
			s.memory = (type == MM_SWP_DEVICE_WRITE || type == MM_SWP_DEVICE_READ) ? "device-private memory" :
				   "system RAM";
		}
		return s;
	}
	if (!(e & (1ULL << 63)))
		return s;
	s.pfn = pfn;
	if (mm_is_zero_pfn(pfn)) {
		s.kind = "zero page";
		s.memory = "the zero page";
		return s;
	}
	s.kind = "present";
	s.memory = pfn >= (int64_t)MM_COHERENT_FIRST_PFN && pfn < (int64_t)MM_COHERENT_END_PFN ? "device-coherent memory" :
											     "system RAM";
	return s;
}

static struct mm_msnap mm_matrix_snap_of(pid_t pid, uintptr_t addr)
{
	char path[40];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	int fd = open(path, O_RDONLY);
	uint64_t e = 0;
	if (fd < 0 || pread(fd, &e, 8, (addr / MM_PAGE) * 8) != 8)
		mm_fail("pread %s: %s", path, strerror(errno));
	close(fd);
	return mm_matrix_snap(e);
}

/* steps/matrix_steps.ts exclusiveHeld(): HMM_DMIRROR_CHECK_EXCLUSIVE says -EPERM while the device's atomic entry stands. */
static int mm_exclusive_held(int b)
{
	mm_dmirror(0, HMM_DMIRROR_CHECK_EXCLUSIVE, b, 0, 1);
	return sh->cmd_ret == -EPERM;
}

/* The page one of the matrix's kinds of memory puts at buffer b (the Given step). */
static void mm_matrix_setup(int b, const char *kind)
{
	if (!strcmp(kind, "private file")) {
		mm_make_file("matrix", 1, 0xf0);
		mm_map_file(b, "matrix", MAP_PRIVATE);
		(void)*(volatile int *)mm_addr(b, 0);
		return;
	}
	mm_map(b, 1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (!strcmp(kind, "zero page")) {
		(void)*(volatile int *)mm_addr(b, 0);
		return;
	}
	mm_write(b, 0, 1, 0x5a);
	if (!strcmp(kind, "device-private memory"))
		mm_dmirror(0, HMM_DMIRROR_MIGRATE_TO_DEV, b, 0, 1);
	else if (!strcmp(kind, "device-coherent memory"))
		mm_dmirror(2, HMM_DMIRROR_MIGRATE_TO_DEV, b, 0, 1);
	else if (!strcmp(kind, "device-exclusive entry"))
		mm_dmirror(0, HMM_DMIRROR_EXCLUSIVE, b, 0, 1);
	else
		return;
	mm_expect0(sh->cmd_ret, kind);
}

/*
 * gup_test DUMP_USER_PAGES_TEST pins (GUP_TEST_FLAG_DUMP_PAGES_USE_PIN) the
 * page with gup_flags and dump_page()s it; the PFN it pinned is in that
 * dump's "pfn:0x…" on /dev/kmsg. Returns 0 or -errno, the PFN in *pfn.
 */
static int mm_pin_dump(int b, unsigned flags, int64_t *pfn)
{
	*pfn = -1;
	int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kfd < 0)
		mm_fail("open /dev/kmsg: %s", strerror(errno));
	lseek(kfd, 0, SEEK_END);
	if (mm_gup_fd < 0)
		mm_gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	struct gup_test g = { 0 };
	g.addr = (uintptr_t)mm_addr(b, 0);
	g.size = MM_PAGE;
	g.nr_pages_per_call = 1;
	g.gup_flags = flags;
	g.test_flags = GUP_TEST_FLAG_DUMP_PAGES_USE_PIN;
	g.which_pages[0] = 1;
	int ret = ioctl(mm_gup_fd, DUMP_USER_PAGES_TEST, &g) ? -errno : 0;
	if (!ret && g.size != MM_PAGE)
		ret = -EFAULT; /* no page pinned: pin_user_pages() said 0 or an error, which gup_test does not return */
	char rec[2048];
	ssize_t n;
	while (!ret && *pfn < 0 && ((n = read(kfd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE))) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		char *p = strstr(rec, " pfn:0x");
		if (p)
			*pfn = strtoll(p + 7, NULL, 16);
	}
	close(kfd);
	if (!ret && *pfn < 0)
		mm_fail("DUMP_USER_PAGES_TEST: no pfn in the kernel log");
	return ret;
}

/* A fork child of the matrix: it waits for a command on one pipe ('w': write the page; 'x': exit) and answers on the other. */
static pid_t mm_matrix_child(int b, int cmd[2], int ack[2])
{
	if (pipe(cmd) || pipe(ack))
		mm_fail("pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		mm_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		char c;
		/* Only the parent's end keeps the command pipe open: its close is the child's 'x'. */
		close(cmd[1]);
		close(ack[0]);
		while (read(cmd[0], &c, 1) == 1 && c == 'w') {
			mm_write(b, 0, 1, 0x77);
			if (write(ack[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(cmd[0]);
	close(ack[1]);
	return pid;
}

/* The When step: op 0 read, 1 write, 2 fork and A writes, 3 fork and B writes, 4 pin, 5 long-term pin, 6 migrate. */
static void mm_matrix_op(int b, int op, unsigned gup_flags)
{
	uintptr_t addr = (uintptr_t)mm_addr(b, 0);
	int was = mm_exclusive_held(b);
	memset(&mm_mx, 0, sizeof(mm_mx));
	mm_mx.pinned = -1;
	mm_mx.before = mm_matrix_snap_of(getpid(), addr);
	if (op == 0)
		(void)*(volatile int *)mm_addr(b, 0);
	else if (op == 1)
		mm_write(b, 0, 1, 0x77);
	else if (op == 2 || op == 3) {
		int cmd[2], ack[2];
		pid_t child = mm_matrix_child(b, cmd, ack);
		struct mm_msnap a_before = mm_mx.before, b_before = mm_matrix_snap_of(child, addr);
		struct mm_msnap a_forked = mm_matrix_snap_of(getpid(), addr);
		char c = 'w';
		if (op == 2)
			mm_write(b, 0, 1, 0x77);
		else if (write(cmd[1], &c, 1) != 1 || read(ack[0], &c, 1) != 1)
			mm_fail("the fork child did not write");
		struct mm_msnap a_after = mm_matrix_snap_of(getpid(), addr), b_after = mm_matrix_snap_of(child, addr);
		close(cmd[1]);
		waitpid(child, NULL, 0);
		close(ack[0]);
		mm_mx.forked = 1;
		/* steps/matrix_steps.ts: when B writes, "before" is the original page, as A maps it after the fork. */
		mm_mx.before = op == 2 ? a_before : a_forked;
		mm_mx.after = op == 2 ? a_after : b_after;
		mm_mx.other_before = op == 2 ? b_before : a_before;
		mm_mx.other_after = op == 2 ? b_after : a_after;
	} else if (op == 4 || op == 5)
		mm_mx.ret = mm_pin_dump(b, gup_flags, &mm_mx.pinned);
	else {
		mm_dmirror(0, HMM_DMIRROR_MIGRATE_TO_DEV, b, 0, 1);
		mm_mx.ret = sh->cmd_ret;
	}
	if (op < 2 || op > 3)
		mm_mx.after = mm_matrix_snap_of(getpid(), addr);
	mm_mx.exclusive_lost = was && !mm_exclusive_held(b);
}

/* PFNs numbered by first appearance (before, after, the other's before and after, the pinned page), as visibleOutcome() does. */
static long mm_matrix_id(int64_t pfn, int64_t *seen, int *n)
{
	if (pfn < 0)
		return -1;
	for (int i = 0; i < *n; i++)
		if (seen[i] == pfn)
			return i;
	seen[*n] = pfn;
	return (*n)++;
}

static int mm_matrix_snap_json(char *out, int len, const char *key, struct mm_msnap s, int64_t *seen, int *n)
{
	return snprintf(out, len, "\"%s\":{\"page\":%ld,\"memory\":\"%s\",\"kind\":\"%s\"},", key,
			mm_matrix_id(s.pfn, seen, n), s.memory, s.kind);
}

static void mm_obs_matrix(void)
{
	char j[1024];
	int64_t seen[5];
	int n = 0, k = 0;
	k += mm_matrix_snap_json(j + k, sizeof(j) - k, "before", mm_mx.before, seen, &n);
	k += mm_matrix_snap_json(j + k, sizeof(j) - k, "after", mm_mx.after, seen, &n);
	if (mm_mx.forked) {
		k += mm_matrix_snap_json(j + k, sizeof(j) - k, "otherBefore", mm_mx.other_before, seen, &n);
		k += mm_matrix_snap_json(j + k, sizeof(j) - k, "otherAfter", mm_mx.other_after, seen, &n);
	}
	long pinned = mm_matrix_id(mm_mx.pinned, seen, &n);
	mm_print("\"got\":{%s\"exclusiveLost\":%s,\"ret\":%d,\"pinned\":%ld}", j, mm_mx.exclusive_lost ? "true" : "false",
		 mm_mx.ret, pinned);
}

/* ---- processes ---- */

/* The scenario's turn: wait for step i, run it, hand the turn on (a fork child, now another process, does not). */
static void mm_run_steps(const struct mm_step *steps, int n)
{
	for (int i = 0; i < n; i++) {
		if (steps[i].owner != mm_me)
			continue;
		long spins = 0;
		while (__atomic_load_n(&sh->turn, __ATOMIC_ACQUIRE) != i) {
			if (sh->turn > n)
				_exit(1);
			if (++spins > 1000)
				usleep(100);
			else
				sched_yield();
		}
		int who = mm_me;
		mm_cur = i;
		mm_wait_exited();
		steps[i].fn();
		if (mm_me == who)
			__atomic_store_n(&sh->turn, i + 1, __ATOMIC_RELEASE);
	}
	/* Keep the mm until the whole scenario has run: the engine's processes live to its end. */
	while (__atomic_load_n(&sh->turn, __ATOMIC_ACQUIRE) < n)
		usleep(200);
}

/* "a process P": the runner forks a fresh process for P. */
static void mm_spawn(int p)
{
	pid_t pid = fork();
	if (pid < 0)
		mm_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		mm_me = p;
		sh->pid[p] = getpid();
		mm_pagemap_fd = -1;
	}
}

/* "P forks C" */
static void mm_fork(int child)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		mm_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		mm_me = child;
		sh->pid[child] = getpid();
		mm_gup_fd = -1; /* gup_test's pin belongs to the parent's open file */
		/* A dmirror file mirrors its opener's mm: the child opens its own (the engine's child has none). */
		for (int n = 0; n < 4; n++) {
			if (mm_dev_fd[n] >= 0)
				close(mm_dev_fd[n]);
			mm_dev_fd[n] = -1;
		}
		if (mm_pagemap_fd >= 0)
			close(mm_pagemap_fd);
		mm_pagemap_fd = -1;
		mm_ngrabs = 0;
		return;
	}
	while (!__atomic_load_n(&sh->pid[child], __ATOMIC_ACQUIRE))
		sched_yield();
}

/* "P exits": hand the turn on first, as the process will not come back; the next step waits for its exit_mm(). */
static void mm_exit(void)
{
	sh->exited_pid = getpid();
	__atomic_store_n(&sh->turn, mm_cur + 1, __ATOMIC_RELEASE);
	_exit(0);
}

/*
 * The engine's exit is done when its step is: wait until the process that
 * exited is a zombie (exit_notify runs after exit_mm) or gone, so its
 * mappings no longer count when the next step runs.
 */
static void mm_wait_exited(void)
{
	int pid = sh->exited_pid;
	if (!pid)
		return;
	char path[40], stat[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int tries = 0; tries < 100000; tries++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			break;
		ssize_t n = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		stat[n > 0 ? n : 0] = 0;
		char *r = strrchr(stat, ')');
		if (!r || r[2] == 'Z' || r[2] == 'X')
			break;
		usleep(100);
	}
	sh->exited_pid = 0;
}

/*
 * Before each scenario, every dmirror device as hmm_dmirror_init leaves it:
 * HMM_DMIRROR_RELEASE drops its chunks (an earlier scenario's large
 * allocation may have carved one into PMD-order folios, or added more), and
 * one small migration makes a chunk again, carved into single pages, as
 * dmirror_device_init's dmirror_allocate_chunk(mdevice, NULL, false) does.
 * The engine loads a fresh driver for each scenario.
 */
static void mm_reset_devices(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (int n = 0; n < 4; n++) {
			char path[32];
			snprintf(path, sizeof(path), "/dev/hmm_dmirror%d", n);
			int fd = open(path, O_RDWR);
			if (fd < 0)
				continue;
			char *p = mmap(NULL, MM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			p[0] = 1;
			struct hmm_dmirror_cmd cmd = { .addr = (uintptr_t)p, .npages = 1 };
			if (ioctl(fd, HMM_DMIRROR_RELEASE, &cmd))
				printf("mmspec-scenario: HMM_DMIRROR_RELEASE on %s: %s\n", path, strerror(errno));
			void *bounce = calloc(1, MM_PAGE);
			cmd = (struct hmm_dmirror_cmd){ .addr = (uintptr_t)p, .ptr = (uintptr_t)bounce, .npages = 1 };
			if (ioctl(fd, HMM_DMIRROR_MIGRATE_TO_DEV, &cmd))
				printf("mmspec-scenario: a first migration to %s: %s\n", path, strerror(errno));
			munmap(p, MM_PAGE);
			close(fd);
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

/*
 * The kernel's log around each scenario. The begin marker goes into the
 * kernel log too, so the console's lines (an Oops that ends the boot) can be
 * told to the scenario that caused them; after a scenario, the records it
 * left at KERN_WARNING or worse go out as {"scenario":N,"kmsg":"..."}.
 */
static int mm_kmsg_fd = -1;

static void mm_kmsg_open(void)
{
	mm_kmsg_fd = open("/dev/kmsg", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (mm_kmsg_fd >= 0)
		lseek(mm_kmsg_fd, 0, SEEK_END);
}

static void mm_kmsg_mark(const char *what, int id)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "<6>mmspec-scenario: %s %d\n", what, id);
	if (mm_kmsg_fd >= 0 && write(mm_kmsg_fd, line, n) < 0) {
	}
}

static void mm_kmsg_drain(int id)
{
	char rec[2048];
	ssize_t n;
	if (mm_kmsg_fd < 0)
		return;
	/* Each read is one record: "prio,seq,usec,flags;text\n" and continuation lines. */
	while ((n = read(mm_kmsg_fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue; /* EPIPE: records were overwritten; the next read goes on */
		rec[n] = 0;
		int prio = atoi(rec) & 7;
		char *text = strchr(rec, ';');
		if (!text || prio > 4)
			continue;
		text++;
		char *end = strchr(text, '\n');
		if (end)
			*end = 0;
		char out[2200];
		int k = snprintf(out, sizeof(out), "{\"scenario\":%d,\"kmsg\":\"", id);
		for (char *c = text; *c && k < (int)sizeof(out) - 4; c++)
			out[k++] = (*c == '"' || *c == '\\') ? '\'' : (*c < 0x20 ? ' ' : *c);
		out[k++] = '"';
		out[k++] = '}';
		out[k++] = '\n';
		if (write(1, out, k) < 0)
			return;
	}
	mm_kmsg_mark("end", id);
}

/*
 * "the kernel warns in F": a WARNING record naming F+offset, or a line of
 * F's source (first-last of file, found by the host), after this
 * scenario's begin marker in the kernel log (a fresh /dev/kmsg reader
 * starts at the oldest record). WARN_ONCE state is cleared before each
 * scenario (mm_clear_warn_once), as the engine boots a fresh kernel.
 */
static void mm_obs_warned_at(const char *fn, const char *file, int first, int last)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		mm_fail("open /dev/kmsg: %s", strerror(errno));
	char rec[2048], mark[64], at[80];
	snprintf(mark, sizeof(mark), "mmspec-scenario: begin %d\n", mm_scenario);
	snprintf(at, sizeof(at), " %s+0x", fn);
	int begun = 0, warned = 0;
	ssize_t n;
	while (!warned && ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE))) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		char *text = strchr(rec, ';');
		if (!text)
			continue;
		if (strstr(text, mark))
			begun = 1;
		else if (begun && strstr(text, "WARNING:")) {
			char *loc = file ? strstr(text, file) : NULL;
			int line = loc && loc[strlen(file)] == ':' ? atoi(loc + strlen(file) + 1) : 0;
			warned = strstr(text, at) || (line >= first && line <= last);
		}
	}
	close(fd);
	mm_print("\"got\":{\"warned\":%s}", warned ? "true" : "false");
}

/* F by its name in the WARNING only (the host found no source for it). */
static void mm_obs_warned(const char *fn)
{
	mm_obs_warned_at(fn, NULL, 0, 0);
}

static void mm_clear_warn_once(void)
{
	int fd = open("/sys/kernel/debug/clear_warn_once", O_WRONLY);
	if (fd >= 0 && write(fd, "1", 1) != 1)
		printf("mmspec-scenario: clear_warn_once: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Run one scenario in a fresh process tree; its runner is process 0. */
static int mm_scenario_run(int id, const struct mm_step *steps, int n, int seconds)
{
	fflush(stdout);
	pid_t runner = fork();
	if (runner == 0) {
		setpgid(0, 0);
		/*
		 * Every process of a scenario on one CPU: a folio's reference in a
		 * per-CPU LRU batch (lru_add) is dropped only by a drain on that CPU,
		 * and do_wp_page's wp_can_reuse_anon_folio drains only its own; on
		 * two CPUs a write may copy a page the engine (which has no batches)
		 * reuses, now and then (write_protect_faults.feature:44).
		 */
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			printf("mmspec-scenario: sched_setaffinity: %s\n", strerror(errno));
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (sh == MAP_FAILED)
			_exit(2);
		mm_scenario = id;
		mm_me = 0;
		mm_catch();
		mm_run_steps(steps, n);
		if (mm_me == 0) {
			while (wait(NULL) > 0)
				;
		} else {
			/* A process reaps its own fork children. */
			while (wait(NULL) > 0)
				;
		}
		_exit(sh->failed);
	}
	int status = 0;
	for (int t = 0; t < seconds * 100; t++) {
		if (waitpid(runner, &status, WNOHANG) == runner) {
			kill(-runner, SIGKILL);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(10000);
	}
	kill(-runner, SIGKILL);
	/*
	 * A process that the kernel holds (a task stuck in the kernel, as after
	 * an Oops inside an ioctl) cannot be reaped: say so and power off, so the
	 * host boots again after this scenario instead of waiting for its timeout.
	 */
	for (int t = 0; t < 1000; t++) {
		if (waitpid(runner, &status, WNOHANG) == runner)
			return 124;
		usleep(10000);
	}
	printf("mmspec-scenario: stuck %d\n", id);
	sync();
	reboot(RB_POWER_OFF);
	return 124;
}
