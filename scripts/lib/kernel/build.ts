/**
 * Building the oracle's kernel and the kernel's own tests, once per kernel
 * version and configuration fragment:
 *
 *   ~/.cache/mmspec/kernel/<version>-<hash of kernel/hmm.config>[-patched-<hash>]/
 *     .config, arch/x86/boot/bzImage, usr/include (make headers),
 *     selftests/hmm-tests, selftests/cow, build.json (what each step cost)
 *
 * The source tree stays pristine: the kernel is built out of tree (O=). A
 * patched kernel (--patched) is built from a hard-linked copy of the source
 * with kernel/patches/*.patch applied, in its own cache directory keyed by the
 * patches' hash too.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, log, OracleError, run } from './host';

export const REPO = join(__dirname, '..', '..', '..');
export const FRAGMENT = join(REPO, 'kernel', 'hmm.config');
export const PATCHES = join(REPO, 'kernel', 'patches');

export interface Built {
  dir: string;
  src: string;
  version: string;
  bzImage: string;
  hmmTests: string;
  cow: string;
  patched: string[];
  /** Seconds each step took when it ran, and whether this run reused it. */
  steps: Record<string, { seconds: number; cached: boolean }>;
  diskBytes: number;
}

const sha12 = (...parts: (string | Buffer)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 12);
};

/** The patches in kernel/patches/, in order. */
export function patchFiles(): string[] {
  if (!existsSync(PATCHES)) return [];
  return readdirSync(PATCHES)
    .filter((f) => f.endsWith('.patch'))
    .sort()
    .map((f) => join(PATCHES, f));
}

/** Bytes under a directory (the cache's cost on disk). Hard links are counted once. */
export function duBytes(dir: string): number {
  const seen = new Set<string>();
  let total = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const s = statSync(p);
        const key = `${s.dev}:${s.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += s.blocks * 512;
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return total;
}

/**
 * One build step, done once: `stamp` in the build directory records it.
 * The step's time goes into build.json the first time; later runs report it
 * as cached, with the time it once took.
 */
function step(dir: string, steps: Built['steps'], name: string, done: () => boolean, fn: () => void): void {
  const record = join(dir, 'build.json');
  const old: Built['steps'] = existsSync(record)
    ? (JSON.parse(readFileSync(record, 'utf8')).steps ?? {})
    : {};
  const stamp = join(dir, `.mmspec-${name}`);
  if (existsSync(stamp) && done()) {
    steps[name] = { seconds: old[name]?.seconds ?? 0, cached: true };
    return;
  }
  log(`${name} …`);
  const t0 = process.hrtime.bigint();
  fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  steps[name] = { seconds: Math.round(seconds * 10) / 10, cached: false };
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  writeFileSync(record, `${JSON.stringify({ steps: { ...old, ...steps } }, null, 2)}\n`);
  log(`${name}: ${steps[name].seconds} s`);
}

/** A configuration symbol's value in a .config ("y", "m", a string, or null when not set). */
export function configValue(config: string, sym: string): string | null {
  const m = new RegExp(`^${sym}=(.*)$`, 'm').exec(config);
  return m ? m[1] : null;
}

/**
 * The fragment's symbols that `make olddefconfig` did not keep as asked.
 * A `=y` it dropped means a dependency the fragment lacks; that is an error
 * (the tests would fail for a reason that has nothing to do with mm). A
 * "not set" that a select turned back on is only trimming that did not
 * happen, and is returned for the log.
 */
export function checkConfig(fragment: string, config: string): { lost: string[]; kept: string[] } {
  const lost: string[] = [];
  const kept: string[] = [];
  fragment.split('\n').forEach((line, i) => {
    const on = /^(CONFIG_\w+)=(.+)$/.exec(line);
    if (on && configValue(config, on[1]) !== on[2])
      lost.push(`${on[1]}=${on[2]} (kernel/hmm.config:${i + 1})`);
    const off = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (off && configValue(config, off[1]) !== null) kept.push(off[1]);
  });
  return { lost, kept };
}

export function buildKernel(src: { dir: string; version: string }, opts: { patched: boolean }): Built {
  const fragment = readFileSync(FRAGMENT);
  const patches = opts.patched ? patchFiles() : [];
  if (opts.patched && !patches.length) throw new OracleError(`--patched: no *.patch in ${PATCHES}`);
  let key = `${src.version}-${sha12(fragment)}`;
  if (opts.patched) key += `-patched-${sha12(...patches.map((p) => readFileSync(p)))}`;
  const dir = join(cacheRoot(), key);
  mkdirSync(dir, { recursive: true });
  const steps: Built['steps'] = {};
  const jobs = String(cpus().length);

  /* A patched kernel builds from its own copy of the source (hard links: cheap). */
  let tree = src.dir;
  if (opts.patched) {
    tree = join(dir, 'src');
    step(
      dir,
      steps,
      'patch',
      () => existsSync(tree),
      () => {
        rmSync(tree, { recursive: true, force: true });
        run('cp', ['-al', src.dir, tree]);
        for (const p of patches) {
          log(`applying ${p.slice(REPO.length + 1)}`);
          /* patch(1) breaks the hard link of each file it changes, so the pristine tree stays pristine. */
          run('patch', ['-p1', '--no-backup-if-mismatch', '-d', tree, '-i', p]);
        }
      },
    );
  }
  const make = (args: string[], logName: string): void =>
    run('make', ['-C', tree, `O=${dir}`, `-j${jobs}`, ...args], { logFile: join(dir, logName) });

  step(
    dir,
    steps,
    'config',
    () => existsSync(join(dir, '.config')),
    () => {
      make(['defconfig'], 'config.log');
      make(['kvm_guest.config'], 'config.log');
      run(
        'sh',
        [join(tree, 'scripts/kconfig/merge_config.sh'), '-m', '-O', dir, join(dir, '.config'), FRAGMENT],
        {
          cwd: tree,
          logFile: join(dir, 'merge.log'),
        },
      );
      make(['olddefconfig'], 'config.log');
      const { lost, kept } = checkConfig(fragment.toString(), readFileSync(join(dir, '.config'), 'utf8'));
      if (lost.length)
        throw new OracleError(
          `make olddefconfig dropped what kernel/hmm.config asks for:\n  ${lost.join('\n  ')}`,
        );
      if (kept.length) log(`selected by other options, so not trimmed: ${kept.join(' ')}`);
    },
  );
  const bzImage = join(dir, 'arch/x86/boot/bzImage');
  step(
    dir,
    steps,
    'bzImage',
    () => existsSync(bzImage),
    () => make(['bzImage'], 'build.log'),
  );
  step(
    dir,
    steps,
    'headers',
    () => existsSync(join(dir, 'usr/include/linux/mman.h')),
    () => make(['headers'], 'headers.log'),
  );

  const out = join(dir, 'selftests');
  const hmmTests = join(out, 'hmm-tests');
  const cow = join(out, 'cow');
  step(
    dir,
    steps,
    'selftests',
    /* Built before the timeout header, or with another scale: build again. */
    () =>
      existsSync(hmmTests) &&
      existsSync(cow) &&
      readIf(join(out, 'include/kselftest_harness.h')).includes(`* ${SELFTEST_TIMEOUT_SCALE})`),
    () => buildSelftests(tree, dir, out),
  );
  const built: Built = {
    dir,
    src: tree,
    version: src.version,
    bzImage,
    hmmTests,
    cow,
    patched: patches.map((p) => p.slice(REPO.length + 1)),
    steps,
    diskBytes: duBytes(dir),
  };
  return built;
}

function readIf(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** How much longer than on hardware a selftest may take before its harness kills it (qemu, often TCG). */
export const SELFTEST_TIMEOUT_SCALE = 4;

/**
 * hmm-tests and cow, static, against the kernel's own exported headers (so
 * HMM_DMIRROR_* and the new uapi match the kernel they run on), with the
 * selftests' vm_util.c and hugepage_settings.c as the Makefile links them.
 */
function buildSelftests(tree: string, dir: string, out: string): void {
  mkdirSync(out, { recursive: true });
  const mm = join(tree, 'tools/testing/selftests/mm');
  /* cow.c includes local_config.h, which the selftests' Makefile generates by probing for liburing. */
  const cfg = join(out, 'include');
  mkdirSync(cfg, { recursive: true });
  writeFileSync(join(cfg, 'local_config.h'), '#define LOCAL_CONFIG_HAVE_LIBURING 1\n');
  /*
   * The harness's per-test timeouts (30 s, and TEST_F_TIMEOUT's 120 s for
   * benchmark_thp_migration) are for hardware. Under TCG on CI's two loaded
   * cores benchmark_thp_migration ran past 120 s and was "terminated by
   * timeout", a verdict about the machine, not about the kernel. This header
   * is found before the real one (quote includes search -I in order), takes
   * it in with #include_next, and scales both by SELFTEST_TIMEOUT_SCALE.
   */
  writeFileSync(
    join(cfg, 'kselftest_harness.h'),
    [
      '/* mmspec: scripts/lib/kernel/build.ts buildSelftests; timeouts scaled for qemu */',
      '#include_next "kselftest_harness.h"',
      '#ifndef MMSPEC_TIMEOUT_SCALED',
      '#define MMSPEC_TIMEOUT_SCALED',
      '#undef TEST_TIMEOUT_DEFAULT',
      `#define TEST_TIMEOUT_DEFAULT (30 * ${SELFTEST_TIMEOUT_SCALE})`,
      '#undef TEST_F_TIMEOUT',
      '#define TEST_F_TIMEOUT(fixture_name, test_name, timeout) \\',
      `\t__TEST_F_IMPL(fixture_name, test_name, -1, (timeout) * ${SELFTEST_TIMEOUT_SCALE})`,
      '#endif',
      '',
    ].join('\n'),
  );
  const common = [
    '-static',
    '-O2',
    '-U_FORTIFY_SOURCE',
    '-no-pie',
    '-D_GNU_SOURCE',
    '-I',
    cfg,
    '-I',
    tree,
    '-I',
    join(tree, 'tools/testing/selftests'),
    '-I',
    mm,
    '-isystem',
    join(dir, 'usr/include'),
    '-isystem',
    join(tree, 'tools/include/uapi'),
  ];
  /* hugepage_settings.c was thp_settings.c before 7.x. */
  const helpers = ['vm_util.c', 'hugepage_settings.c', 'thp_settings.c']
    .filter((f) => existsSync(join(mm, f)))
    .map((f) => join(mm, f));
  const cc = (name: string, main: string, libs: string[]): void =>
    run('gcc', [...common, '-o', join(out, name), join(mm, main), ...helpers, ...libs], {
      logFile: join(out, `${name}.log`),
    });
  cc('hmm-tests', 'hmm-tests.c', ['-lpthread', '-lrt', '-lm']);
  cc('cow', 'cow.c', ['-luring', '-lpthread', '-lm']);
}
