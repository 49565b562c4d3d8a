/**
 * Checks over the suite, each named on the command line:
 *   steps   no step definition goes unused and no step is undefined or
 *           ambiguous, from Cucumber's own dry run over every feature (its
 *           usage-json and messages, in a temporary folder), whatever the
 *           last run was
 *   names   no two scenarios would be merged by Allure: each has its own
 *           historyId in the run's allure-results (reports/, or MMSPEC_RUN_DIR), and no feature file has
 *           two scenarios (or outline rows) of the same name and parameters
 *   claims  every claim of claims/claims.yaml has a scenario tagged
 *           @claim:<id>, every @claim tag names a claim, and the registry
 *           agrees with shared/reference/seed-claims.md and the messages
 * Usage: node -r ts-node/register scripts/check.ts steps names [claims]
 * Prints what it found and exits 1 if any check failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coverageProblems, loadClaims, REGISTRY, registryProblems, sharedDir } from './lib/claims';
import { featureFiles, loadFeatures } from './lib/features';
import { readLastRun, readUsage } from './lib/run';

type Check = () => string[];

const checks: Record<string, Check> = {
  steps() {
    /*
     * Cucumber's own dry run over every feature, into a folder of its own: it
     * matches every step against the definitions without running one, so the
     * check holds whatever the last run was (a focused one, or none).
     */
    const dir = mkdtempSync(join(tmpdir(), 'mmspec-steps-'));
    try {
      const dry = spawnSync(
        process.execPath,
        ['node_modules/@cucumber/cucumber/bin/cucumber.js', '--dry-run', '--format', 'summary:/dev/null'],
        { encoding: 'utf8', env: { ...process.env, MMSPEC_RUN_DIR: dir } },
      );
      const run = readLastRun(join(dir, 'messages.ndjson'));
      const usage = readUsage(join(dir, 'usage.json'));
      if (!run || !usage)
        return [
          `cucumber-js --dry-run wrote no results (exit ${dry.status}): ${dry.stderr.trim().split('\n')[0]}`,
        ];
      const problems: string[] = [];
      for (const [pickleId, pickle] of run.pickles)
        for (const step of pickle.steps) {
          const outcome = run.stepOutcomes.get(step.id);
          if (outcome?.status === 'UNDEFINED' || outcome?.status === 'AMBIGUOUS')
            problems.push(
              `${outcome.status.toLowerCase()} step in ${pickle.uri}:${run.lines.get(pickleId)}: "${step.text}"`,
            );
        }
      const missing = featureFiles().filter((f) => !run.uris.has(f));
      if (missing.length)
        problems.push(
          `the dry run did not parse ${missing.length} feature file(s) (${missing.slice(0, 3).join(', ')}): ${dry.stderr.trim().split('\n')[0]}`,
        );
      const unused = usage.filter((u) => u.matches.length === 0);
      if (unused.length)
        problems.push(
          `${unused.length} step definition(s) match no step of any feature (use them in a scenario, or remove them):`,
          ...unused.map((u) => `  ${u.uri}:${u.line}  ${u.pattern}`),
        );
      return problems;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },

  /**
   * Every chai expect() in steps/ and support/ says what it compares (its
   * second argument), so that a failure names the page, the process or the
   * counter rather than showing a bare diff. Read with TypeScript's parser.
   */
  assertions() {
    const ts = require('typescript') as typeof import('typescript');
    const problems: string[] = [];
    for (const dir of ['steps', 'support'])
      for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
        if (!f.endsWith('.ts') || f.endsWith('.d.ts')) continue;
        const file = join(dir, f);
        const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
        const visit = (node: import('typescript').Node): void => {
          if (
            ts.isCallExpression(node) &&
            ts.isIdentifier(node.expression) &&
            node.expression.text === 'expect' &&
            node.arguments.length < 2
          ) {
            const { line } = source.getLineAndCharacterOfPosition(node.getStart());
            problems.push(
              `${file}:${line + 1}: expect(${node.arguments[0]?.getText().slice(0, 60) ?? ''}) says not what it compares (give expect a second argument)`,
            );
          }
          ts.forEachChild(node, visit);
        };
        visit(source);
      }
    return problems;
  },

  names() {
    const problems: string[] = [];
    const seen = new Map<string, string>();
    for (const s of loadFeatures().scenarios) {
      const key = `${s.uri}#${s.name}#${JSON.stringify(s.parameters)}`;
      const other = seen.get(key);
      if (other) problems.push(`${s.uri}:${s.line} has the same name as line ${other}: "${s.name}"`);
      else seen.set(key, String(s.line));
    }
    const dir = `${process.env.MMSPEC_RUN_DIR ?? 'reports'}/allure-results`;
    if (existsSync(dir)) {
      const byHistory = new Map<string, string[]>();
      for (const f of readdirSync(dir).filter((f) => f.endsWith('-result.json'))) {
        const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { historyId: string; fullName: string };
        byHistory.set(r.historyId, [...(byHistory.get(r.historyId) ?? []), r.fullName]);
      }
      for (const [id, names] of byHistory)
        if (names.length > 1)
          problems.push(
            `Allure would merge ${names.length} results with historyId ${id}: ${names.join(' | ')}`,
          );
    }
    return problems;
  },

  claims() {
    const claims = loadClaims();
    const shared = sharedDir();
    const problems = [
      ...registryProblems(claims, shared),
      ...coverageProblems(claims, loadFeatures().scenarios),
    ];
    if (!shared)
      console.log(
        `check claims: no shared/ beside the project (or MMSPEC_SHARED), so ${REGISTRY} was not compared with seed-claims.md and the messages`,
      );
    return problems;
  },
};

const names = process.argv.slice(2);
if (names.length === 0 || names.some((n) => !(n in checks))) {
  console.error(`usage: scripts/check.ts ${Object.keys(checks).join('|')} ...`);
  process.exit(2);
}
let failed = false;
for (const name of names) {
  const problems = checks[name]();
  if (problems.length) {
    failed = true;
    console.error(`check ${name}: FAILED\n  ${problems.join('\n  ')}`);
  } else console.log(`check ${name}: ok`);
}
process.exit(failed ? 1 : 0);
