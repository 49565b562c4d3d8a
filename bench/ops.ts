/*
 * Explorer throughput with debug_vm off, incremental and full, side by side:
 * each rep runs `scripts/explore.ts` once per mode (the order rotated every
 * rep) on the same seed and sequences, in a fresh node process, and reads
 * its summary's ops/s (operations over the run's own time, without loading
 * the step definitions). Issue 11's target: >= 50,000 ops/s with the
 * incremental invariants.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPS_MODES = ['off', 'incremental', 'full'] as const;
export const OPS_TARGET = 50_000;

export interface OpsResult {
  method: string;
  runs: number;
  ops: number;
  /** ops/s per mode: median, min, max over the reps. */
  ops_per_second: Record<
    (typeof OPS_MODES)[number],
    { median: number; min: number; max: number; reps: number[] }
  >;
}

function once(root: string, mode: string, runs: number): { ops: number; opsPerSecond: number } {
  const out = mkdtempSync(join(tmpdir(), 'mmspec-ops-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        'scripts/explore.ts',
        '--seed',
        '1',
        '--runs',
        String(runs),
        '--quiet',
        '--debug-vm',
        mode,
        '--out',
        out,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    if (r.status !== 0 && r.status !== 1) throw new Error(`explore --debug-vm ${mode} failed: ${r.stderr}`);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    return { ops: s.ops, opsPerSecond: s.opsPerSecond };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function measureOps(root: string, runs: number, reps: number): OpsResult {
  const per = new Map<string, number[]>(OPS_MODES.map((m) => [m, []]));
  let ops = 0;
  for (let rep = 0; rep < reps; rep++)
    for (let j = 0; j < OPS_MODES.length; j++) {
      const mode = OPS_MODES[(rep + j) % OPS_MODES.length];
      const r = once(root, mode, runs);
      ops = r.ops;
      per.get(mode)?.push(r.opsPerSecond);
      process.stderr.write(`\rexplorer ops/s: rep ${rep + 1}/${reps}, ${mode}: ${r.opsPerSecond}        `);
    }
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], reps: xs };
  };
  return {
    method: `npm run explore -- --seed 1 --runs ${runs} --debug-vm <mode>, ${reps} reps per mode, modes rotated each rep; ops/s from its summary.json`,
    runs,
    ops,
    ops_per_second: Object.fromEntries(
      OPS_MODES.map((m) => [m, stat(per.get(m) ?? [])]),
    ) as OpsResult['ops_per_second'],
  };
}

export function opsTable(r: OpsResult): string {
  const row = (m: (typeof OPS_MODES)[number]) => {
    const x = r.ops_per_second[m];
    return `  debug_vm ${m.padEnd(11)} ${String(x.median).padStart(7)} ops/s [${x.min}-${x.max}]`;
  };
  return [
    `Explorer throughput (${r.runs} sequences, ${r.ops} ops; target >= ${OPS_TARGET} ops/s with incremental invariants)`,
    ...OPS_MODES.map(row),
  ].join('\n');
}
