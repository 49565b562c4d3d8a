/**
 * The guest: a busybox initramfs whose /init runs the kernel's own tests and
 * powers off, and the qemu that boots it.
 *
 * Kernel messages go to the first serial port (console.log), test output to
 * the second (tap.txt), so a WARN in the middle of a test never splits a TAP
 * line. Each program's output is framed by "mmspec: begin <name>" and
 * "mmspec: end <name> rc=<n>" lines, so a program that never ends (an Oops,
 * a hang, the boot timeout) is told apart from one that finished.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OracleError, run } from './host';

/** Device-coherent memory for test_hmm: a 512 MiB memmap=! range, 256 MiB per device (DEVMEM_CHUNK_SIZE). */
export const CMDLINE = [
  'console=ttyS0',
  'panic=-1',
  'nokaslr',
  'memmap=512M!0x140000000',
  'test_hmm.spm_addr_dev0=0x140000000',
  'test_hmm.spm_addr_dev1=0x150000000',
];

export interface Program {
  /** Name in the begin/end markers and in the report. */
  name: string;
  /** Path of the static binary on the host. */
  binary: string;
  /** Seconds before the guest's timeout(1) kills it. */
  timeout: number;
  /** Its arguments (numbers and words only: they go into /init unquoted). */
  args?: string[];
}

export interface GuestPlan {
  programs: Program[];
  /** THP mode: the engine models madvise (engine/machine.ts). */
  thp: 'madvise' | 'always' | 'never';
  /** 2 MiB hugetlb pages for hmm-tests' hugetlbfs case and cow.c's hugetlb cases. */
  hugepages: number;
  /** Bytes of the virtio disk the guest swaps to (cow.c's swapped-out cases). 0: no swap. */
  swapBytes: number;
  /**
   * Bytes of a second virtio disk, an ext2 filesystem at /scratch, for the
   * scenarios' files: a disk filesystem with writeback, as the engine's
   * files are (tmpfs is shmem, which GUP and migration treat otherwise). 0: none.
   */
  scratchBytes?: number;
}

export interface Boot {
  accel: 'kvm' | 'tcg';
  seconds: number;
  timedOut: boolean;
  exitCode: number | null;
  console: string;
  tap: string;
  dir: string;
}

const INIT_HEAD = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /dev/hugepages /tmp
mount -t hugetlbfs hugetlbfs /dev/hugepages
mount -t tmpfs tmpfs /tmp
out=/dev/ttyS1
`;

/** The /init script for a plan. */
export function initScript(plan: GuestPlan | 'probe'): string {
  if (plan === 'probe') return `${INIT_HEAD}echo "mmspec: userspace" > $out\npoweroff -f\n`;
  const lines = [INIT_HEAD];
  lines.push(`echo ${plan.thp} > /sys/kernel/mm/transparent_hugepage/enabled`);
  lines.push(`echo ${plan.hugepages} > /proc/sys/vm/nr_hugepages`);
  if (plan.swapBytes) lines.push('mkswap /dev/vda > /dev/null && swapon /dev/vda');
  if (plan.scratchBytes)
    lines.push(
      `mkdir -p /scratch && mke2fs -q /dev/${plan.swapBytes ? 'vdb' : 'vda'} && mount -t ext2 /dev/${plan.swapBytes ? 'vdb' : 'vda'} /scratch`,
      'echo "mmspec: scratch $(grep -c " /scratch " /proc/mounts)" > $out',
    );
  lines.push(
    'echo "mmspec: uname $(uname -r)" > $out',
    'echo "mmspec: thp $(cat /sys/kernel/mm/transparent_hugepage/enabled)" > $out',
    'echo "mmspec: hugepages $(cat /proc/sys/vm/nr_hugepages)" > $out',
    'echo "mmspec: swap $(tail -n +2 /proc/swaps | wc -l)" > $out',
    'echo "mmspec: devices $(ls /dev | grep -c hmm_dmirror)" > $out',
  );
  for (const p of plan.programs) {
    const args = p.args ?? [];
    for (const a of args) if (!/^[\w.-]+$/.test(a)) throw new OracleError(`guest program argument "${a}"`);
    lines.push(
      `echo "mmspec: begin ${p.name}" > $out`,
      `cd /tmp; timeout ${p.timeout} /tests/${p.name}${args.map((a) => ` ${a}`).join('')} > $out 2>&1; rc=$?`,
      `echo "mmspec: end ${p.name} rc=$rc" > $out`,
    );
  }
  lines.push('echo "mmspec: done" > $out', 'sync', 'poweroff -f', '');
  return lines.join('\n');
}

/** Build the initramfs (gzip'd newc cpio) into `dir`. */
export function buildInitramfs(dir: string, plan: GuestPlan | 'probe'): string {
  const root = join(dir, 'initramfs');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'tests'])
    mkdirSync(join(root, d), { recursive: true });
  if (!existsSync('/bin/busybox'))
    throw new OracleError('/bin/busybox is missing (Debian package busybox-static)');
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  if (plan !== 'probe')
    for (const p of plan.programs) {
      copyFileSync(p.binary, join(root, 'tests', p.name));
      chmodSync(join(root, 'tests', p.name), 0o755);
    }
  writeFileSync(join(root, 'init'), initScript(plan), { mode: 0o755 });
  const out = join(dir, plan === 'probe' ? 'probe.cpio.gz' : 'initramfs.cpio.gz');
  run('sh', ['-c', `find . | cpio -o -H newc --quiet | gzip -1 > '${out}'`], { cwd: root });
  rmSync(root, { recursive: true, force: true });
  return out;
}

function qemuArgs(
  accel: 'kvm' | 'tcg',
  bzImage: string,
  initrd: string,
  dir: string,
  disks: string[],
  cmdline: readonly string[] = [],
): string[] {
  const a = [
    '-machine',
    'q35',
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-m',
    '4G',
    '-smp',
    '2',
    '-nodefaults',
    '-no-reboot',
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    `file:${join(dir, 'console.log')}`,
    '-serial',
    `file:${join(dir, 'tap.txt')}`,
    '-kernel',
    bzImage,
    '-initrd',
    initrd,
    '-append',
    [...CMDLINE, ...cmdline].join(' '),
  ];
  for (const disk of disks) a.push('-drive', `file=${disk},format=raw,if=virtio`);
  return a;
}

export interface BootOptions {
  /** Kernel parameters after CMDLINE. */
  cmdline?: readonly string[];
  /**
   * Kill qemu when the programs' serial port has not grown for this long: a
   * guest whose kernel hangs prints nothing more there (its console may go on
   * with stall traces), and waiting for the whole timeout would cost the
   * rest of the run.
   */
  idleSeconds?: number;
}

/**
 * qemu under a watchdog shell: the host-side timeout, and with idleSeconds,
 * the time since the programs' serial file last grew.
 */
function watchdog(args: string[], dir: string, idleSeconds: number): { cmd: string; argv: string[] } {
  const q = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  /* The program's port only: a hung kernel can go on printing traces to the console. */
  const files = `'${join(dir, 'tap.txt')}'`;
  const script = [
    `qemu-system-x86_64 ${q} & q=$!`,
    'last=; idle=0',
    'while kill -0 $q 2>/dev/null; do',
    '  sleep 2',
    `  now=$(cat ${files} 2>/dev/null | wc -c)`,
    '  if [ "$now" = "$last" ]; then idle=$((idle+2)); else idle=0; last=$now; fi',
    `  if [ $idle -ge ${idleSeconds} ]; then echo "mmspec: the guest printed nothing for ${idleSeconds} s" >&2; kill -9 $q; fi`,
    'done',
    'wait $q',
  ].join('\n');
  return { cmd: 'bash', argv: ['-c', script] };
}

/** Boot once; the host-side timeout kills qemu if the guest never powers off. */
export function boot(
  accel: 'kvm' | 'tcg',
  bzImage: string,
  initrd: string,
  dir: string,
  timeoutSeconds: number,
  swapBytes = 0,
  scratchBytes = 0,
  options: BootOptions = {},
): Boot {
  mkdirSync(dir, { recursive: true });
  for (const f of ['console.log', 'tap.txt']) rmSync(join(dir, f), { force: true });
  const disks: string[] = [];
  /* Sparse: the guest's mkswap and mke2fs write their headers; the rest costs disk only when written. */
  for (const [name, bytes] of [
    ['swap.img', swapBytes],
    ['scratch.img', scratchBytes],
  ] as const) {
    if (!bytes) continue;
    const disk = join(dir, name);
    rmSync(disk, { force: true });
    run('truncate', ['-s', String(bytes), disk]);
    disks.push(disk);
  }
  const t0 = process.hrtime.bigint();
  const args = qemuArgs(accel, bzImage, initrd, dir, disks, options.cmdline);
  const { cmd, argv } = options.idleSeconds
    ? watchdog(args, dir, options.idleSeconds)
    : { cmd: 'qemu-system-x86_64', argv: args };
  const r = spawnSync(cmd, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutSeconds * 1000,
    killSignal: 'SIGKILL',
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT')
    throw new OracleError(`qemu-system-x86_64: ${r.error.message}`);
  const read = (f: string): string => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'latin1') : '');
  const stderr = r.stderr?.toString() ?? '';
  writeFileSync(join(dir, 'qemu.stderr'), stderr);
  for (const disk of disks) rmSync(disk, { force: true });
  return {
    accel,
    seconds: Math.round(seconds * 10) / 10,
    timedOut: r.signal === 'SIGKILL' || /the guest printed nothing for/.test(stderr),
    exitCode: r.status,
    console: read('console.log') + (stderr ? `\n[qemu stderr]\n${stderr}` : ''),
    tap: read('tap.txt').replace(/\r\n/g, '\n'),
    dir,
  };
}

/**
 * KVM when a probe boot under it reaches userspace, TCG otherwise. The
 * answer is kept per host and kernel image (a /dev/kvm can be there and
 * still not boot a guest: a paravirtual one fails `-cpu host` on MSR 0x10a).
 */
export function chooseAccel(bzImage: string, dir: string): { accel: 'kvm' | 'tcg'; why: string } {
  const memo = join(dir, `accel-${hostname()}.json`);
  const stamp = statSync(bzImage).mtimeMs;
  if (existsSync(memo)) {
    const m = JSON.parse(readFileSync(memo, 'utf8'));
    if (m.bzImage === stamp)
      return { accel: m.accel, why: `${m.why} (probed before; delete ${memo} to probe again)` };
  }
  let accel: 'kvm' | 'tcg' = 'tcg';
  let why: string;
  if (!existsSync('/dev/kvm')) why = 'no /dev/kvm';
  else {
    const initrd = buildInitramfs(dir, 'probe');
    const probe = boot('kvm', bzImage, initrd, join(dir, 'probe'), 60);
    if (probe.tap.includes('mmspec: userspace')) {
      accel = 'kvm';
      why = `a KVM probe boot reached userspace in ${probe.seconds} s`;
    } else {
      const stderr = probe.console.split('[qemu stderr]\n')[1]?.trim().split('\n')[0];
      why = `a KVM probe boot did not reach userspace (${probe.timedOut ? 'timed out after 60 s' : stderr || `qemu exited ${probe.exitCode}`})`;
    }
  }
  writeFileSync(memo, `${JSON.stringify({ bzImage: stamp, accel, why })}\n`);
  return { accel, why };
}
