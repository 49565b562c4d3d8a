/**
 * The host side of the oracle: the Debian packages it needs, the kernel
 * source from Debian's archive, and the cache outside the repository
 * (~/.cache/mmspec/kernel, or $MMSPEC_KERNEL_CACHE).
 *
 * The kernel source comes from a `linux-source-<major.minor>` package. 7.x is
 * only in Debian's unstable suite, which this machine's apt does not list. It
 * is taken with a private apt configuration (its own sources list, lists and
 * cache directories under the cache), download-only: nothing from that suite
 * is ever installed, and the system's apt configuration is not touched. Its
 * mirror is the one the machine's own apt sources name, so no host is named
 * here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export class OracleError extends Error {
  override name = 'OracleError';
}

/** Where built kernels, unpacked sources and the private apt state live. */
export function cacheRoot(): string {
  return process.env.MMSPEC_KERNEL_CACHE ?? join(homedir(), '.cache', 'mmspec', 'kernel');
}

/** The kernels the oracle knows how to fetch: the Debian package and the suite that has it. */
export const KERNELS: Record<string, { pkg: string; suite: string }> = {
  '7.2': { pkg: 'linux-source-7.2', suite: 'sid' },
  '6.12': { pkg: 'linux-source-6.12', suite: 'bookworm-backports' },
};

/** Debian packages the oracle runs, with a file each installs (to tell whether it is there). */
export const PACKAGES: readonly [pkg: string, probe: string][] = [
  ['qemu-system-x86', '/usr/bin/qemu-system-x86_64'],
  ['build-essential', '/usr/share/build-essential/list'],
  ['flex', '/usr/bin/flex'],
  ['bison', '/usr/bin/bison'],
  ['bc', '/usr/bin/bc'],
  ['libelf-dev', '/usr/include/libelf.h'],
  ['libssl-dev', '/usr/include/openssl/ssl.h'],
  ['cpio', '/usr/bin/cpio'],
  ['busybox-static', '/bin/busybox'],
  ['liburing-dev', '/usr/include/liburing.h'],
  ['xz-utils', '/usr/bin/xz'],
];

export const log = (msg: string): void => {
  process.stdout.write(`kernel: ${msg}\n`);
};

/** Run a command, its output to the console (or a log file); throws naming the command on failure. */
export function run(cmd: string, args: string[], opts: { cwd?: string; logFile?: string } = {}): void {
  const out = opts.logFile ? ['ignore', 'pipe', 'pipe'] : 'inherit';
  const r = spawnSync(cmd, args, { cwd: opts.cwd, stdio: out as never, maxBuffer: 1 << 30 });
  if (opts.logFile)
    writeFileSync(opts.logFile, Buffer.concat([r.stdout ?? Buffer.alloc(0), r.stderr ?? Buffer.alloc(0)]));
  if (r.error) throw new OracleError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = opts.logFile
      ? `\n${readFileSync(opts.logFile, 'utf8').split('\n').slice(-30).join('\n')}`
      : '';
    throw new OracleError(
      `${cmd} ${args.join(' ')} exited ${r.status}${opts.logFile ? ` (log: ${opts.logFile})` : ''}${tail}`,
    );
  }
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Install the packages that are missing: with apt-get when running as root,
 * otherwise stop with the exact command to run.
 */
export function ensurePackages(): void {
  const missing = PACKAGES.filter(([, probe]) => !existsSync(probe)).map(([pkg]) => pkg);
  if (!missing.length) return;
  const cmd = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot())
    throw new OracleError(
      `missing Debian packages: ${missing.join(', ')}. Install them with: sudo apt-get update && sudo ${cmd}`,
    );
  log(`installing ${missing.join(' ')}`);
  run('apt-get', ['update', '-q']);
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing]);
}

/** The Debian mirror the machine's own apt sources use for Debian's main archive. */
export function debianMirror(): string {
  const files: string[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  if (existsSync('/etc/apt/sources.list.d'))
    for (const f of readdirSync('/etc/apt/sources.list.d'))
      if (f.endsWith('.sources') || f.endsWith('.list')) files.push(join('/etc/apt/sources.list.d', f));
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    /* deb822: a stanza with URIs and a Suites line naming a release, not -security. */
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? '';
      const types = /^Types:\s*(.+)$/m.exec(stanza)?.[1] ?? 'deb';
      if (uri && types.split(/\s+/).includes('deb') && /debian\/?$/.test(uri) && !/security/.test(suites))
        return uri.replace(/\/$/, '');
    }
    /* one-line form: deb [options] URI suite components */
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && /debian\/?$/.test(m[1]) && !/security/.test(m[2])) return m[1].replace(/\/$/, '');
    }
  }
  throw new OracleError(
    `no Debian archive in /etc/apt/sources.list or /etc/apt/sources.list.d: the kernel source is a Debian package (linux-source-<version>); add a Debian mirror to apt`,
  );
}

/** apt-get options for the private, download-only configuration of one suite. */
function privateApt(suite: string): string[] {
  const dir = join(cacheRoot(), 'apt', suite);
  for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, d), { recursive: true });
  const list = join(dir, 'sources.list');
  writeFileSync(
    list,
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${debianMirror()} ${suite} main\n`,
  );
  return [
    '-o',
    `Dir::Etc::SourceList=${list}`,
    '-o',
    'Dir::Etc::SourceParts=/dev/null',
    '-o',
    `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o',
    `Dir::Cache=${join(dir, 'cache')}`,
    '-o',
    'APT::Sandbox::User=root',
  ];
}

/**
 * The unpacked kernel source tree of `series` (7.2, 6.12), fetched and
 * unpacked once: ~/.cache/mmspec/kernel/src/linux-<series>/.
 */
export function kernelSource(series: string): { dir: string; version: string; pkgVersion: string } {
  const k = KERNELS[series];
  if (!k)
    throw new OracleError(
      `--kernel ${series}: not a kernel the oracle knows (${Object.keys(KERNELS).join(', ')})`,
    );
  const dir = join(cacheRoot(), 'src', `linux-${series}`);
  const stamp = join(dir, '.mmspec-unpacked');
  if (!existsSync(stamp)) {
    const apt = privateApt(k.suite);
    log(`fetching ${k.pkg} from Debian's ${k.suite} suite (download only, private apt lists)`);
    run('apt-get', [...apt, 'update', '-q']);
    const dl = join(cacheRoot(), 'apt', k.suite, 'deb');
    rmSync(dl, { recursive: true, force: true });
    mkdirSync(dl, { recursive: true });
    run('apt-get', [...apt, 'download', '-q', k.pkg], { cwd: dl });
    const deb = readdirSync(dl).find((f) => f.endsWith('.deb'));
    if (!deb) throw new OracleError(`apt-get download ${k.pkg} left no .deb in ${dl}`);
    const x = join(dl, 'x');
    run('dpkg-deb', ['-x', join(dl, deb), x]);
    const tarball = join(x, 'usr', 'src', `${k.pkg}.tar.xz`);
    if (!existsSync(tarball)) throw new OracleError(`${deb} has no usr/src/${k.pkg}.tar.xz`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(cacheRoot(), 'src'), { recursive: true });
    log(`unpacking ${k.pkg}.tar.xz`);
    run('tar', ['-xJf', tarball, '-C', join(cacheRoot(), 'src')]);
    const unpacked = join(cacheRoot(), 'src', k.pkg);
    run('mv', [unpacked, dir]);
    rmSync(dl, { recursive: true, force: true });
    writeFileSync(stamp, `${deb}\n`);
  }
  const version = execFileSync('make', ['-s', '-C', dir, 'kernelversion'], { encoding: 'utf8' }).trim();
  const pkgVersion = readFileSync(stamp, 'utf8').trim() || version;
  return { dir, version, pkgVersion };
}
