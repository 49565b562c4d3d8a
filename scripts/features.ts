/**
 * npm run features [-- <cucumber-js arguments>]: runs cucumber-js with the
 * arguments given (none: the whole suite), then the suite's checks, then the
 * "N passed, N failed" line.
 *
 * A full run writes reports/ (the published results); a focused or partial
 * run (paths, --name, --tags, --dry-run, --shard, --fail-fast) writes
 * reports/last/ and leaves reports/ alone (cucumber.js decides, with
 * scripts/lib/run-kind.js). After a partial run only the checks that do not
 * need the whole suite run (names, claims); `npm run check:steps` checks the
 * steps over every feature with a dry run at any time.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runKind } from './lib/run-kind';

const args = process.argv.slice(2);
let kind: { partial: boolean; why: string[] };
try {
  kind = runKind(args);
} catch (err) {
  console.error(`npm run features: ${(err as Error).message}`);
  process.exit(2);
}
const dir = process.env.MMSPEC_RUN_DIR ?? (kind.partial ? 'reports/last' : 'reports');
const node = (script: string, ...rest: string[]): number =>
  spawnSync(process.execPath, [...process.execArgv, join(__dirname, script), ...rest], {
    stdio: 'inherit',
    env: { ...process.env, MMSPEC_RUN_DIR: dir },
  }).status ?? 1;

let status =
  spawnSync(
    process.execPath,
    [join(__dirname, '..', 'node_modules', '@cucumber', 'cucumber', 'bin', 'cucumber.js'), ...args],
    {
      stdio: 'inherit',
      env: { ...process.env, MMSPEC_RUN_DIR: dir },
    },
  ).status ?? 1;
if (kind.partial) {
  console.log(
    `partial run (${kind.why.join(', ')}): results in ${dir}/, the published ones in reports/ are untouched`,
  );
  if (node('check.ts', 'names', 'claims', 'assertions')) status = 1;
} else if (node('check.ts', 'names', 'claims', 'steps', 'assertions')) status = 1;
if (node('summary.ts', `${dir}/messages.ndjson`)) status = 1;
process.exit(status);
