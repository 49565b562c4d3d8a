/*
 * mmbench: one repetition of the engine benchmark's operations on this host's
 * real kernel, so that bench/run.ts can time the engine and the kernel
 * alternately, rep by rep, in the same run.
 *
 *   mmbench N COW_PAGES 4k|thp
 *
 * On N pages of 4 KiB private anonymous read/write memory (MADV_NOHUGEPAGE
 * for 4k, a 2 MiB-aligned range with MADV_HUGEPAGE for thp), in this order:
 *   first_touch  one write per page (the write faults: do_anonymous_page, or
 *                do_huge_pmd_anonymous_page for thp)
 *   fork         fork() until it returns in the parent; the child waits on a
 *                pipe and touches nothing
 *   cow_write    the parent writes the first COW_PAGES pages, child alive
 *   munmap       the parent unmaps the whole range, child alive; then the
 *                child is told to exit and is reaped
 * then on a fresh mapping of N pages, first-touched again (untimed):
 *   madv_dontneed  madvise(MADV_DONTNEED) of the whole range
 *   (touched again, untimed)
 *   mprotect       mprotect(PROT_READ) of the whole range
 *
 * Memory, from /proc/meminfo before the first mmap and after the first touch:
 * the PageTables delta, the AnonPages/AnonHugePages deltas (to show what was
 * mapped), and the MemFree delta less the N pages of data; and from
 * /proc/vmstat the struct page array (nr_memmap_boot_pages + nr_memmap_pages)
 * per present page of /proc/zoneinfo.
 *
 * Prints one JSON object; times are nanoseconds for the whole operation:
 * "ns" wall (CLOCK_MONOTONIC), "cpu_ns" this thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), which a host shared with other work inflates less. Exit 0, or 1 with a message on stderr naming the failed call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define HPAGE (2UL << 20)

static void die(const char *what)
{
	fprintf(stderr, "mmbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Wall time, and this thread's CPU time (user + system: the faults, the
 * fork's copy_page_range, the zap all run in the calling thread). */
static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}
static uint64_t cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

enum { T_TOUCH, T_FORK, T_COW, T_MUNMAP, T_DONTNEED, T_MPROTECT, NR_T };
static uint64_t wall[NR_T], cpu[NR_T], w0, c0;
static void start(void)
{
	w0 = now_ns();
	c0 = cpu_ns();
}
static void stop(int t)
{
	cpu[t] = cpu_ns() - c0;
	wall[t] = now_ns() - w0;
}

/* A /proc/meminfo field in kB, or -1. */
static long meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	if (!f)
		die("fopen /proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* A /proc/vmstat counter, or -1. */
static long vmstat(const char *key)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char name[128];
	long v, r = -1;
	if (!f)
		die("fopen /proc/vmstat");
	while (fscanf(f, "%127s %ld", name, &v) == 2)
		if (!strcmp(name, key)) {
			r = v;
			break;
		}
	fclose(f);
	return r;
}

/* Sum of "present" pages over /proc/zoneinfo's zones. */
static long present_pages(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256];
	long sum = 0, v;
	if (!f)
		die("fopen /proc/zoneinfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " present %ld", &v) == 1)
			sum += v;
	fclose(f);
	return sum;
}

static volatile char sink;

static char *map(unsigned long n, int thp)
{
	unsigned long len = n * PAGE;
	char *p = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;
	if (p == MAP_FAILED)
		die("mmap");
	/* 2 MiB-align the range, so that thp can map every 512 pages with one PMD. */
	a = (char *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));
	if (a > p && munmap(p, a - p))
		die("munmap head");
	if (munmap(a + len, p + len + HPAGE - a - len))
		die("munmap tail");
	if (madvise(a, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		die(thp ? "madvise MADV_HUGEPAGE" : "madvise MADV_NOHUGEPAGE");
	return a;
}

static void touch(char *a, unsigned long n, char v)
{
	for (unsigned long i = 0; i < n; i++)
		a[i * PAGE] = v;
}

int main(int argc, char **argv)
{
	unsigned long n, cow, i;
	int thp, pipefd[2], status;
	long pt0, free0, anon0, ahp0;
	char *a;
	pid_t pid;

	if (argc != 4 || (strcmp(argv[3], "4k") && strcmp(argv[3], "thp"))) {
		fprintf(stderr, "usage: mmbench N COW_PAGES 4k|thp\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	cow = strtoul(argv[2], NULL, 10);
	thp = !strcmp(argv[3], "thp");
	if (!n || cow > n) {
		fprintf(stderr, "mmbench: need 0 < N and COW_PAGES <= N\n");
		return 2;
	}

	pt0 = meminfo("PageTables");
	free0 = meminfo("MemFree");
	anon0 = meminfo("AnonPages");
	ahp0 = meminfo("AnonHugePages");
	a = map(n, thp);

	start();
	touch(a, n, 0x5a);
	stop(T_TOUCH);

	long pt1 = meminfo("PageTables"), free1 = meminfo("MemFree");
	long anon1 = meminfo("AnonPages"), ahp1 = meminfo("AnonHugePages");

	if (pipe(pipefd))
		die("pipe");
	start();
	pid = fork();
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	stop(T_FORK);
	if (pid < 0)
		die("fork");
	close(pipefd[0]);

	start();
	touch(a, cow, 1);
	stop(T_COW);

	start();
	if (munmap(a, n * PAGE))
		die("munmap");
	stop(T_MUNMAP);
	close(pipefd[1]);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");

	a = map(n, thp);
	touch(a, n, 0x5a);
	start();
	if (madvise(a, n * PAGE, MADV_DONTNEED))
		die("madvise MADV_DONTNEED");
	stop(T_DONTNEED);
	touch(a, n, 0x5b);
	start();
	if (mprotect(a, n * PAGE, PROT_READ))
		die("mprotect");
	stop(T_MPROTECT);
	for (i = 0; i < n; i += 4096)
		sink += a[i * PAGE];
	if (munmap(a, n * PAGE))
		die("munmap");

	printf("{\"pages\":%lu,\"cow_pages\":%lu,\"mode\":\"%s\",", n, cow, thp ? "thp" : "4k");
	for (i = 0; i < 2; i++) {
		uint64_t *v = i ? cpu : wall;
		printf("\"%s\":{\"first_touch\":%llu,\"fork\":%llu,\"cow_write\":%llu,\"munmap\":%llu,"
		       "\"madv_dontneed\":%llu,\"mprotect\":%llu},",
		       i ? "cpu_ns" : "ns", (unsigned long long)v[T_TOUCH], (unsigned long long)v[T_FORK],
		       (unsigned long long)v[T_COW], (unsigned long long)v[T_MUNMAP],
		       (unsigned long long)v[T_DONTNEED], (unsigned long long)v[T_MPROTECT]);
	}
	printf("\"meminfo_kb\":{\"PageTables\":%ld,\"MemFree\":%ld,\"AnonPages\":%ld,\"AnonHugePages\":%ld},"
	       "\"memmap_pages\":%ld,\"present_pages\":%ld}\n",
	       pt1 - pt0, free0 - free1, anon1 - anon0, ahp1 - ahp0,
	       vmstat("nr_memmap_boot_pages") + vmstat("nr_memmap_pages"), present_pages());
	return 0;
}
