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
 * Prints one JSON object; times are nanoseconds (CLOCK_MONOTONIC) for the
 * whole operation. Exit 0, or 1 with a message on stderr naming the failed call.
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

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
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
	uint64_t t, ns_touch, ns_fork, ns_cow, ns_munmap, ns_dontneed, ns_mprotect;
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

	t = now_ns();
	touch(a, n, 0x5a);
	ns_touch = now_ns() - t;

	long pt1 = meminfo("PageTables"), free1 = meminfo("MemFree");
	long anon1 = meminfo("AnonPages"), ahp1 = meminfo("AnonHugePages");

	if (pipe(pipefd))
		die("pipe");
	t = now_ns();
	pid = fork();
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	ns_fork = now_ns() - t;
	if (pid < 0)
		die("fork");
	close(pipefd[0]);

	t = now_ns();
	touch(a, cow, 1);
	ns_cow = now_ns() - t;

	t = now_ns();
	if (munmap(a, n * PAGE))
		die("munmap");
	ns_munmap = now_ns() - t;
	close(pipefd[1]);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");

	a = map(n, thp);
	touch(a, n, 0x5a);
	t = now_ns();
	if (madvise(a, n * PAGE, MADV_DONTNEED))
		die("madvise MADV_DONTNEED");
	ns_dontneed = now_ns() - t;
	touch(a, n, 0x5b);
	t = now_ns();
	if (mprotect(a, n * PAGE, PROT_READ))
		die("mprotect");
	ns_mprotect = now_ns() - t;
	for (i = 0; i < n; i += 4096)
		sink += a[i * PAGE];
	if (munmap(a, n * PAGE))
		die("munmap");

	printf("{\"pages\":%lu,\"cow_pages\":%lu,\"mode\":\"%s\","
	       "\"ns\":{\"first_touch\":%llu,\"fork\":%llu,\"cow_write\":%llu,\"munmap\":%llu,"
	       "\"madv_dontneed\":%llu,\"mprotect\":%llu},"
	       "\"meminfo_kb\":{\"PageTables\":%ld,\"MemFree\":%ld,\"AnonPages\":%ld,\"AnonHugePages\":%ld},"
	       "\"memmap_pages\":%ld,\"present_pages\":%ld}\n",
	       n, cow, thp ? "thp" : "4k", (unsigned long long)ns_touch, (unsigned long long)ns_fork,
	       (unsigned long long)ns_cow, (unsigned long long)ns_munmap, (unsigned long long)ns_dontneed,
	       (unsigned long long)ns_mprotect, pt1 - pt0, free0 - free1, anon1 - anon0, ahp1 - ahp0,
	       vmstat("nr_memmap_boot_pages") + vmstat("nr_memmap_pages"), present_pages());
	return 0;
}
