/**
 * npm run mutate [-- --files a.ts,b.ts | --changed]: Stryker's mutation
 * testing of the engine (stryker.config.mjs), then its score per file into
 * the committed mutation.json (scripts/lib/mutation.ts). Stryker's HTML
 * report goes to reports/site/mutation/index.html, its JSON report to
 * reports/mutation/mutation.json.
 *
 * - no argument: every file of engine/ (an hour or more on 2 cores: README);
 * - --files: those files;
 * - --changed: the engine files that differ from a base: MMSPEC_MUTATE_BASE
 *   if set, else the merge base with origin/main if there is one, else
 *   HEAD~1 (what CI runs). With no changed engine file it says so and exits 0.
 *
 * Exits 1 when a mutated file's score over its covered mutants is under
 * Stryker's thresholds.break, or when Stryker did not finish. Stryker and its
 * workers run at nice 10: the machine is shared.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { type FileScore, MUTATION_JSON, readMutationRecord, scoreOf } from './lib/mutation';

const REPORT = 'reports/mutation/mutation.json';

const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8' });
const ok = (r: ReturnType<typeof git>) => r.status === 0;

function usage(why: string): never {
  console.error(
    `npm run mutate: ${why}\nusage: npm run mutate [-- --files engine/mm/a.ts,engine/mm/b.ts | --changed]`,
  );
  process.exit(2);
}

/** The base --changed compares with, and why that one. */
function base(): { rev: string; why: string } {
  const env = process.env.MMSPEC_MUTATE_BASE;
  if (env) return { rev: env, why: 'MMSPEC_MUTATE_BASE' };
  if (ok(git('rev-parse', '--verify', '--quiet', 'origin/main'))) {
    const mb = git('merge-base', 'HEAD', 'origin/main');
    if (ok(mb)) return { rev: mb.stdout.trim(), why: 'the merge base with origin/main' };
  }
  return { rev: 'HEAD~1', why: 'HEAD~1 (no origin/main)' };
}

/** Left out of stryker.config.mjs's mutate, with its reason there. */
const NOT_MUTATED = ['engine/mm/debug_vm.ts'];

const isEngineSource = (f: string) => /^engine\/.+\.ts$/.test(f) && !f.endsWith('.d.ts');

/** The files to mutate, or null for Stryker's own `mutate` (all of engine/). */
function targets(args: string[]): string[] | null {
  if (args.length === 0) return null;
  if (args[0] === '--changed' && args.length === 1) {
    const { rev, why } = base();
    const diff = git('diff', '--name-only', rev, '--', 'engine');
    if (!ok(diff)) usage(`git diff ${rev} failed: ${diff.stderr.trim()}`);
    const files = diff.stdout
      .split('\n')
      .filter((f) => isEngineSource(f) && existsSync(f) && !NOT_MUTATED.includes(f));
    console.log(
      `npm run mutate --changed: against ${rev} (${why}): ${files.length ? files.join(', ') : 'none'}`,
    );
    return files;
  }
  const files = args[0] === '--files' && args.length === 2 ? args[1].split(',').filter(Boolean) : null;
  if (!files?.length) usage(`unknown arguments: ${args.join(' ')}`);
  for (const f of files) if (!isEngineSource(f) || !existsSync(f)) usage(`${f} is not a file of engine/`);
  return files;
}

/** Runs Stryker, its output passed through; resolves to its exit status. */
function stryker(files: string[] | null): Promise<number> {
  const bin = join(__dirname, '..', 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
  const args = [bin, 'run', ...(files ? ['--mutate', files.join(',')] : [])];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function commit(): string {
  const head = git('rev-parse', '--short', 'HEAD');
  if (!ok(head)) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'engine').stdout.trim();
  return `${head.stdout.trim()}${dirty ? ' with uncommitted changes' : ''}`;
}

async function main(): Promise<number> {
  const files = targets(process.argv.slice(2));
  if (files && files.length === 0) {
    console.log('npm run mutate: no engine file changed, nothing to mutate');
    return 0;
  }
  try {
    setPriority(10);
  } catch {
    // not allowed here: run at the priority we have
  }
  const started = Date.now();
  // Stryker's own exit status is 1 when the score over all mutants of the
  // run is under thresholds.break; the verdict below is per file, over the
  // covered mutants, so it only tells whether Stryker finished (its report).
  const status = await stryker(files);
  const seconds = Math.round((Date.now() - started) / 1000);
  if (!existsSync(REPORT) || statSync(REPORT).mtimeMs < started) {
    console.error(`npm run mutate: Stryker exited with ${status} and wrote no report (${REPORT})`);
    return 1;
  }
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as {
    thresholds: { break?: number | null };
    files: Record<string, { mutants: { status: string }[] }>;
  };
  const threshold = report.thresholds.break ?? 0;
  const record = readMutationRecord();
  record.breakThreshold = threshold;
  const run = { measured: new Date(started).toISOString(), commit: commit(), runSeconds: seconds };
  // Stryker's report also carries the files of earlier runs its incremental file remembers: keep this run's.
  const measured = Object.entries(report.files).filter(
    ([f]) => isEngineSource(f) && (files === null || files.includes(f)),
  );
  const low: string[] = [];
  console.log(`\nnpm run mutate: ${measured.length} file(s) in ${seconds} s; score over covered mutants:`);
  for (const [file, { mutants }] of measured) {
    const score: FileScore = scoreOf(mutants, { ...run, runFiles: measured.length });
    const earlier = record.files[file];
    if (earlier) {
      const { history, ...last } = earlier;
      record.files[file] = { ...score, history: [...history, last] };
    } else record.files[file] = { ...score, history: [] };
    const under = score.mutants > 0 && score.scoreCovered < threshold;
    if (under) low.push(file);
    console.log(
      `  ${file}: ${score.scoreCovered} % (${score.killed} killed, ${score.timeout} timeout, ${score.survived} survived, ${score.noCoverage} no coverage; ${score.score} % of all)${under ? ` UNDER ${threshold} %` : ''}`,
    );
  }
  record.files = Object.fromEntries(Object.entries(record.files).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(MUTATION_JSON, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`written: ${MUTATION_JSON}; Stryker's report: reports/site/mutation/index.html`);
  if (low.length) {
    console.error(
      `npm run mutate: under thresholds.break (${threshold} % of covered mutants): ${low.join(', ')}`,
    );
    return 1;
  }
  return 0;
}

main().then((code) => process.exit(code));
