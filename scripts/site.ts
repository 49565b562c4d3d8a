/**
 * The published site, reports/site/, built by `npm run report` after Allure:
 *   index.html        links to everything below, and the run's counts
 *   claims.html       every claim → its scenarios and their outcome → its status → its thread
 *   steps.html        the step catalogue: every phrase, a real example, the features that use it
 *   threads/          the seed messages the claims come from (when shared/ is at hand)
 *   cucumber.html     Cucumber's report of the run
 *   allure-report/    the browsable Allure report (written there by scripts/report.ts)
 *   allure-single/    the same as one file
 *   conformance.html  the kernel's own tests, case by case → scenarios → outcome (scripts/lib/conformance.ts)
 *   mutation/         Stryker's report of the last npm run mutate (scripts/mutate.ts), when there is one
 * Plain HTML and CSS: no scripts, no external resources.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../engine/machine';
import { isKernelParameter } from './lib/allure';
import { type Claim, isFinding, loadClaims, sharedDir } from './lib/claims';
import {
  type ConformanceCase,
  conformanceTable,
  counts,
  KERNEL_TESTS,
  type ScenarioResult,
  STATUS_ORDER,
} from './lib/conformance';
import { AXES, type Axis, type Compared, compareDesigns, readDesigns } from './lib/designs';
import { type Features, loadFeatures, type ScenarioRun, tagValues } from './lib/features';
import {
  type ScenarioRun as KernelScenarioRun,
  type ScenarioResult as KernelVerdict,
  kernelVerdicts,
  readScenarioRun,
  scenarioKey,
} from './lib/kernel/scenarios';
import { KERNEL_REPORT, type KernelReport, readKernelReport } from './lib/kernel/tap';
import { readMutationRecord } from './lib/mutation';
import { type LastRun, type Outcome, pickleKey, readLastRun, readUsage, type Usage } from './lib/run';

export const SITE = 'reports/site';

/**
 * The index's mutation-testing card: each engine file's score over its
 * covered mutants, from the committed mutation.json, and a link to
 * Stryker's report of the last `npm run mutate` when this site has one
 * (mutation/index.html: that run's files only).
 */
export function mutationCard(): string {
  const record = readMutationRecord();
  const files = Object.entries(record.files);
  const report = existsSync(join(SITE, 'mutation', 'index.html'));
  const rows = files
    .map(
      ([f, r]) =>
        `<li><code>${esc(f)}</code>: <span class="mutation-score">${r.scoreCovered} %</span> (${r.killed + r.timeout} of ${r.killed + r.timeout + r.survived} covered mutants killed, ${r.noCoverage} not covered; ${esc(r.measured.slice(0, 10))})</li>`,
    )
    .join('');
  const title = report ? '<a href="mutation/index.html">Mutation testing</a>' : 'Mutation testing';
  return `<div class="card" id="mutation"><h3>${title}</h3><div class="small">Stryker's score per engine file, from mutation.json (thresholds.break ${record.breakThreshold} %)${report ? '' : '; no report in this site: npm run mutate builds it'}.<ul>${rows || '<li>no file measured yet</li>'}</ul></div></div>`;
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4;position:sticky;top:0}
code,kbd{font:13px ui-monospace,Menlo,Consolas,monospace;background:#f4f4f4;padding:0 .2rem}
.quote{color:#555;font-style:italic}.small{font-size:.85rem;color:#555}
.badge{display:inline-block;border-radius:.7rem;padding:0 .55rem;font-size:.8rem;font-weight:600;white-space:nowrap}
.accepted{background:#d9f2d9;color:#145214}.disputed{background:#fde7c2;color:#7a4a00}.superseded{background:#e3e3f3;color:#33336b}.violated{background:#f8d0d0;color:#7a0000}
.passed{background:#d9f2d9;color:#145214}.failed{background:#f8d4d4;color:#8a1010}.not-run,.none{background:#eee;color:#555}.pending,.kernel-fails{background:#fde7c2;color:#7a4a00}.missing{background:#f8d4d4;color:#8a1010}
ul.scen{margin:0;padding-left:1rem}#claims td:first-child{white-space:nowrap}nav a{margin-right:1rem}
.breaks{background:#ffd9b3;color:#7a2e00;border:1px solid #d9822b;white-space:normal}tr.breaks-row{background:#fff8f0}table.designs{table-layout:fixed}#steps,#parameters{table-layout:fixed}#steps td,#parameters td{overflow-wrap:anywhere}#steps code,#parameters code{white-space:normal;overflow-wrap:anywhere}table.designs td{overflow-wrap:anywhere}table.designs code{white-space:normal}img.picture{max-width:100%;height:auto;border:1px solid #ddd;margin-top:.3rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:1rem}
.card{border:1px solid #ddd;border-radius:.5rem;padding:.8rem 1rem}.card h3{margin:.1rem 0 .4rem;font-size:1.05rem}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · mmspec</title><style>${STYLE}</style></head>
<body><nav class="small"><a href="index.html">mmspec reports</a><a href="claims.html">claims</a><a href="steps.html">step catalogue</a><a href="conformance.html">conformance</a><a href="designs.html">designs</a><a href="allure-report/index.html">Allure</a><a href="cucumber.html">Cucumber report</a></nav>
<h1>${esc(title)}</h1>
${body}
</body></html>
`;
}

/** A doc comment as HTML: escaped, with `code` spans. */
const prose = (s: string): string => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');

const badge = (cls: string, text: string): string => `<span class="badge ${cls}">${esc(text)}</span>`;

/** A scenario's key in Allure's data: file, name and outline parameters (which Allure sorts by name). */
function allureKey(
  uri: string,
  name: string,
  parameters: readonly { name: string; value: string }[],
): string {
  const params = parameters.map((p) => `${p.name}=${p.value}`).sort();
  return JSON.stringify([uri, name, params]);
}

/** Allure's test-case uid for each scenario, from the generated report. */
function allureUids(): Map<string, string> {
  const dir = join(SITE, 'allure-report', 'data', 'test-cases');
  const uids = new Map<string, string>();
  if (!existsSync(dir)) return uids;
  for (const f of readdirSync(dir)) {
    const t = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      uid: string;
      name: string;
      fullName: string;
      parameters?: { name: string; value: string }[];
    };
    const uri = t.fullName.slice(t.fullName.indexOf(':') + 1, t.fullName.indexOf('#'));
    // The real-kernel verdict is a parameter in Allure, not one of the scenario's own.
    const own = (t.parameters ?? []).filter((p) => !isKernelParameter(p.name));
    uids.set(allureKey(uri, t.name, own), t.uid);
  }
  return uids;
}

/** Each scenario's outcome in the last run, by file and line. */
function outcomes(run: LastRun | null): Map<string, Outcome> {
  const by = new Map<string, Outcome>();
  if (!run) return by;
  for (const [id, p] of run.pickles)
    by.set(pickleKey(p.uri, run.lines.get(id) ?? 0), run.outcomes.get(id) ?? 'not run');
  return by;
}

/** The real kernel's verdict on a scenario (npm run kernel -- --scenarios), as a badge with its reason. */
function kernelBadge(k: KernelVerdict | undefined, version: string): string {
  if (!k) return '';
  const cls =
    k.verdict === 'agree'
      ? 'passed'
      : k.verdict === 'differs' || k.verdict === 'did not finish'
        ? 'failed'
        : k.verdict === 'differs (tagged)' || k.verdict === 'differs (unpatched)'
          ? 'kernel-fails'
          : 'none';
  const why = k.verdict === 'agree' ? `${k.compared} observations compared` : (k.note ?? '');
  return ` <span title="${esc(why)}">${badge(cls, `Linux ${version}: ${k.verdict}`)}</span>`;
}

function scenarioItem(
  s: ScenarioRun,
  outcome: Outcome,
  uid: string | undefined,
  kernel: KernelVerdict | undefined = undefined,
  version = '',
): string {
  const name =
    esc(s.name) +
    (s.parameters.length
      ? ` <span class="small">(${esc(s.parameters.map((p) => `${p.name}=${p.value}`).join(', '))})</span>`
      : '');
  const link = uid
    ? `<a class="scenario" href="allure-report/index.html#testresult/${uid}">${name}</a>`
    : name;
  return `<li>${badge(outcome.replace(' ', '-'), outcome)}${kernelBadge(kernel, version)} ${link} <span class="small">${esc(s.uri)}:${s.line}</span></li>`;
}

/** What the claims page says of the real-kernel run: which kernel, how many scenarios agreed, and how many claims' scenarios all did. */
function kernelSummary(
  run: KernelScenarioRun | null,
  claims: Claim[],
  by: Map<string, ScenarioRun[]>,
  kernel: Map<string, KernelVerdict>,
): string {
  if (!run)
    return '<p>No real-kernel scenario run yet: <code>npm run kernel -- --scenarios</code> runs each translatable scenario on Linux in qemu and puts its verdict beside the engine’s.</p>';
  const ran = run.results.filter((r) =>
    ['agree', 'differs', 'differs (tagged)', 'differs (unpatched)', 'did not finish'].includes(r.verdict),
  );
  let checked = 0;
  for (const c of claims) {
    const verdicts = (by.get(c.id) ?? []).map(
      (s) =>
        kernel.get(
          scenarioKey(
            s.uri,
            s.name,
            s.parameters.map((p) => p.value),
          ),
        )?.verdict,
    );
    if (verdicts.length && verdicts.some((v) => v === 'agree') && !verdicts.some((v) => v === 'differs'))
      checked++;
  }
  return `<p>On the real kernel, Linux ${esc(run.kernel.version)} under qemu (${esc(run.guest.accel.toUpperCase())}): ${run.summary.agree ?? 0} of ${ran.length} translated scenarios agree with the engine (${run.observations.compared} observations compared); ${checked} claims have a scenario the kernel agrees with and none it differs from. A scenario’s second badge is that verdict; its tooltip says why a scenario did not run there.</p>`;
}

export function claimsPage(
  claims: Claim[],
  features: Features,
  run: LastRun | null,
  threads: boolean,
): string {
  const by = new Map<string, ScenarioRun[]>();
  for (const s of features.scenarios)
    for (const id of tagValues(s.tags, 'claim')) by.set(id, [...(by.get(id) ?? []), s]);
  const outcome = outcomes(run);
  const uids = allureUids();
  const scenarioRun = readScenarioRun();
  const kernel = kernelVerdicts(scenarioRun);
  const version = scenarioRun?.kernel.version ?? '';
  const values = (s: ScenarioRun) => s.parameters.map((p) => p.value);
  const counts = { accepted: 0, disputed: 0, superseded: 0, violated: 0 };
  let covered = 0;
  let allPassed = 0;
  const rows = claims.map((c) => {
    counts[c.status]++;
    const scenarios = by.get(c.id) ?? [];
    if (scenarios.length) covered++;
    const results = scenarios.map((s) => outcome.get(pickleKey(s.uri, s.line)) ?? 'not run');
    if (scenarios.length && results.every((r) => r === 'passed')) allPassed++;
    const src = c.source;
    const thread =
      threads && !isFinding(c)
        ? `<a href="threads/${esc(src.file)}">${esc(src.file)}</a>`
        : `<code>${esc(src.file)}</code>`;
    const checked = scenarios.length
      ? `<ul class="scen">${scenarios.map((s, i) => scenarioItem(s, results[i], uids.get(allureKey(s.uri, s.name, s.parameters)), kernel.get(scenarioKey(s.uri, s.name, values(s))), version)).join('')}</ul>`
      : badge('none', 'no scenario yet');
    return `<tr id="${esc(c.id)}" data-status="${c.status}">
<td><b>${esc(c.id)}</b></td>
<td>${esc(c.statement)}<div class="quote">“${esc(c.quote)}”</div>${c.kernel ? `<div class="small"><b>Broken by</b> ${esc(c.kernel)}</div>` : ''}${c.note ? `<div class="small">${esc(c.note)}</div>` : ''}</td>
<td class="status">${badge(c.status, c.status)}</td>
<td>${checked}</td>
<td class="small">${thread}<br>${esc(src.author)}${src.date ? `<br>${esc(src.date)}` : ''}<br>${esc(src.subject ?? src.thread ?? '')}</td>
</tr>`;
  });
  const findings = claims.filter(isFinding).length;
  const summary = `<p>${claims.length - findings} claims from the mailing-list threads and ${findings} of mmspec's own findings: ${counts.accepted} accepted, ${counts.disputed} disputed, ${counts.superseded} superseded, ${counts.violated} violated by the real kernel.
${covered} have scenarios; the scenarios of ${allPassed} all passed in the last run. A scenario's name opens it in the Allure report, with its steps and a picture of the page tables after each step.</p>
${kernelSummary(scenarioRun, claims, by, kernel)}
<p class="small"><b>accepted</b>: the thread agreed and the kernel the engine follows behaves so. <b>disputed</b>: questioned in the thread, or left open. <b>superseded</b>: true when written, but the kernel changed since; the engine keeps it as a selectable old design. <b>violated</b>: a rule that follows from the kernel's own design, which the real kernel breaks (a bug mmspec found; its report is in <code>docs/upstream/</code>). Source: <code>claims/claims.yaml</code>.</p>`;
  return page(
    'Claims',
    `${summary}<table id="claims"><thead><tr><th>claim</th><th>statement and quote</th><th>status</th><th>scenarios (last run)</th><th>thread</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`,
  );
}

/** The keyword a step definition was written with (Given, When, Then), from its source line. */
function definitionKeyword(uri: string, line: number): { keyword: string; doc: string } {
  if (!existsSync(uri)) return { keyword: '', doc: '' };
  const lines = readFileSync(uri, 'utf8').split('\n');
  const keyword = /\b(Given|When|Then|defineStep)\s*\(/.exec(lines[line - 1] ?? '')?.[1] ?? '';
  const doc: string[] = [];
  let i = line - 2;
  // The doc comment may stand above a type declared for the definition: skip back to it, not past the previous call.
  while (
    i > 0 &&
    !(lines[i] ?? '').trim().endsWith('*/') &&
    !/^\}\)?;?$|^\);?$/.test((lines[i] ?? '').trim())
  )
    i--;
  if ((lines[i] ?? '').trim().endsWith('*/'))
    for (; i >= 0; i--) {
      const t = lines[i].trim();
      doc.unshift(
        t
          .replace(/^\/\*\*?|\*\/$/g, '')
          .replace(/^\*\s?/, '')
          .trim(),
      );
      if (t.startsWith('/*')) break;
    }
  return { keyword, doc: doc.filter(Boolean).join(' ') };
}

function featureLine(uri: string, line: number): string {
  if (!existsSync(uri)) return '';
  return (readFileSync(uri, 'utf8').split('\n')[line - 1] ?? '').trim();
}

/**
 * A real step a definition matched, as written in its feature file (keyword
 * and all), preferring one that is not an outline's template with <placeholders>.
 */
function exampleOf(u: Usage): { text: string; uri: string; line: number } | null {
  const written = u.matches.map((m) => ({ ...m, written: featureLine(m.uri, m.line) }));
  const plain = written.find((m) => m.written && !m.written.includes('<'));
  if (plain) return { text: plain.written, uri: plain.uri, line: plain.line };
  const m = written[0];
  if (!m) return null;
  const keyword = /^(Given|When|Then|And|But|\*)\s/.exec(m.written)?.[1] ?? '';
  return { text: `${keyword} ${m.text}`.trim(), uri: m.uri, line: m.line };
}

export function stepsPage(usage: Usage[], run: LastRun | null): string {
  const defs = [...usage].sort((a, b) => a.uri.localeCompare(b.uri) || a.line - b.line);
  const rows = defs.map((u) => {
    const { keyword, doc } = definitionKeyword(u.uri, u.line);
    const example = exampleOf(u);
    const files = new Map<string, number>();
    for (const m of u.matches) files.set(m.uri, (files.get(m.uri) ?? 0) + 1);
    return `<tr><td><code>${esc(keyword)} ${esc(u.pattern)}</code>${doc ? `<div class="small">${prose(doc)}</div>` : ''}<div class="small">${esc(u.uri)}:${u.line}</div></td>
<td>${example ? `<code>${esc(example.text)}</code><div class="small">${esc(example.uri)}:${example.line}</div>` : badge('none', 'unused')}</td>
<td class="small">${[...files].map(([f, n]) => `${esc(f)} (${n})`).join('<br>')}</td><td>${u.matches.length}</td></tr>`;
  });
  const params = (run?.parameterTypes ?? [])
    .filter((p) => p.sourceReference?.uri)
    .map((p) => {
      const ref = p.sourceReference ?? {};
      const { doc } = definitionKeyword(ref.uri ?? '', ref.location?.line ?? 0);
      // A real step that uses the type: the first match of the first definition whose pattern names it.
      const user = defs.find((u) => u.pattern.includes(`{${p.name}}`) && u.matches.length > 0);
      const m = user ? exampleOf(user) : null;
      const example = m
        ? `<code>${esc(m.text)}</code><div class="small">${esc(m.uri)}:${m.line}</div>`
        : badge('none', 'unused');
      return `<tr><td><code>{${esc(p.name)}}</code></td><td><code>${esc(p.regularExpressions.join(' | '))}</code></td><td>${prose(doc)}</td><td>${example}</td><td class="small">${esc(ref.uri ?? '')}:${ref.location?.line ?? ''}</td></tr>`;
    });
  return page(
    'Step catalogue',
    `<p>Every step phrase the scenarios can use (${defs.length} step definitions), each with a real example from the features and the features that use it, and the parameter types the phrases are built from. Generated from Cucumber's usage report and message stream of the last run.</p>
<h2>Parameter types</h2>
<table id="parameters"><thead><tr><th>type</th><th>matches</th><th>meaning</th><th>example from the features</th><th>defined in</th></tr></thead><tbody>${params.join('\n')}</tbody></table>
<h2>Step phrases</h2>
<table id="steps"><thead><tr><th>phrase</th><th>example from the features</th><th>used in</th><th>uses</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`,
  );
}

/**
 * The conformance table: each case of the kernel's own tests → its status →
 * the scenarios that restate it, with their outcome → why it did not pass.
 */
export function conformancePage(
  cases: readonly ConformanceCase[],
  problems: readonly string[],
  uids: Map<string, string>,
  kernel: KernelReport | null = readKernelReport(),
): string {
  const real = new Map((kernel?.cases ?? []).map((k) => [`${k.suite} ${k.id}`, k]));
  const realCell = (c: ConformanceCase): string => {
    if (!kernel) return '';
    const k = real.get(`${c.suite} ${c.id}`);
    if (!k) return '<td class="small">not in the last kernel run</td>';
    const cls = k.verdict === 'agree' ? 'passed' : k.verdict.startsWith('differs') ? 'failed' : 'not-run';
    return `<td>${badge(cls, `${k.kernel}: ${k.verdict}`)}${k.note && k.verdict !== 'agree' ? `<div class="small">${esc(k.note)}</div>` : ''}</td>`;
  };
  const kernelIntro = kernel
    ? `<p>The <b>real kernel</b> column: Linux ${esc(kernel.kernel.version)} (Debian ${esc(kernel.kernel.package)}${kernel.kernel.patched.length ? `, patched with ${esc(kernel.kernel.patched.join(', '))}` : ''}) under qemu (${esc(kernel.guest.accel.toUpperCase())}), running the kernel’s own tests (<code>npm run kernel</code>, ${esc(KERNEL_REPORT)}): ${Object.entries(
        kernel.summary,
      )
        .map(([v, n]) => `${n} ${esc(v)}`)
        .join(', ')}.</p>`
    : `<p>No real-kernel run in ${esc(KERNEL_REPORT)} (<code>npm run kernel</code> adds the real kernel column).</p>`;
  const summary = [...counts(cases)]
    .map(([suite, by]) => {
      const total = [...by.values()].reduce((a, b) => a + b, 0);
      return `<li><b>${esc(suite)}</b>: ${by.get('passed') ?? 0} of ${total} cases pass${STATUS_ORDER.filter(
        (st) => st !== 'passed' && by.get(st),
      )
        .map((st) => `, ${by.get(st)} ${st}`)
        .join('')}</li>`;
    })
    .join('');
  const scenario = (r: ScenarioResult) => {
    const uid = uids.get(allureKey(r.uri, r.name, r.parameters));
    const params = r.parameters.filter((p) => p.name !== 'variant');
    const name =
      esc(r.name) +
      (params.length
        ? ` <span class="small">(${esc(params.map((p) => `${p.name}=${p.value}`).join(', '))})</span>`
        : '');
    const link = uid
      ? `<a class="scenario" href="allure-report/index.html#testresult/${uid}">${name}</a>`
      : name;
    return `<li>${badge(r.outcome.replace(' ', '-'), r.outcome)} ${link} <span class="small">${esc(r.uri)}:${r.line}</span></li>`;
  };
  const table = (suite: string) => {
    const rows = cases
      .filter((c) => c.suite === suite)
      .map(
        (c) =>
          `<tr><td><code>${esc(c.id)}</code></td><td>${badge(c.status.replace(/ /g, '-'), c.status)}</td><td>${
            c.bench
              ? `<span class="small">${esc(c.bench)}</span>`
              : `<ul class="scen">${c.scenarios.map(scenario).join('')}</ul>`
          }</td>${realCell(c)}<td class="small">${esc(c.reason)}</td></tr>`,
      );
    return `<h2>${esc(suite)}</h2><table class="conformance"><thead><tr><th>kernel test case</th><th>status</th><th>scenarios (last run)</th>${kernel ? '<th>real kernel</th>' : ''}<th>note</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
  };
  return page(
    'Conformance with the kernel’s own tests',
    `<p>Every case of <code>tools/testing/selftests/mm/hmm-tests.c</code> (each test on the device-private and the device-coherent fixture variant) and of <code>cow.c</code>’s anonymous-memory cases (on each backing), matched with the scenarios that restate it and their outcome in the last run. Generated from <code>${esc(KERNEL_TESTS)}</code> and the run’s results.</p><ul>${summary}</ul>${kernelIntro}${
      problems.length
        ? `<p><b>Problems:</b></p><ul>${problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`
        : ''
    }${[...new Set(cases.map((c) => c.suite))].map(table).join('')}`,
  );
}

/** A scenario's verdict under one design: holds, breaks: <rule> (with its step and picture), or failed. */
function verdictCell(items: Compared[], uids: Map<string, string>, pictures: string[]): string {
  if (!items.length) return '<td class="small">no scenario</td>';
  return `<td>${items
    .map(({ scenario: s, record: r }) => {
      const uid = uids.get(allureKey(s.uri, s.name, s.parameters));
      const open = uid
        ? ` <a class="small" href="allure-report/index.html#testresult/${uid}">Allure</a>`
        : '';
      const where = `<div class="small">${esc(s.uri)}:${s.line}${open}</div>`;
      if (r.engine !== 'PASSED') return `${badge('failed', `scenario ${r.engine.toLowerCase()}`)}${where}`;
      if (!r.breaks) return `${badge('passed', 'holds')}${where}`;
      let img = '';
      if (r.breaks.svg) {
        pictures.push(r.breaks.svg);
        img = `<a href="designs/${pictures.length}.svg"><img class="picture" src="designs/${pictures.length}.svg" alt="the state when ${esc(r.breaks.rule)} broke"></a>`;
      }
      const pfn = /pfn (0x[0-9a-f]+|\d+)/.exec(r.breaks.detail)?.[1];
      return `${badge('breaks', `breaks: ${r.breaks.rule}`)}<div class="small">at <code>${esc(r.breaks.step)}</code>${pfn ? `, pfn ${esc(/^0x/.test(pfn) ? pfn : `0x${Number(pfn).toString(16)}`)}` : ''}</div>${img}${where}`;
    })
    .join('<hr>')}</td>`;
}

/** designs.html: each debated design pair, the scenarios that compare them, each design's verdict in its own column. */
export function designsPage(
  axes: Axis[],
  claims: Claim[],
  uids: Map<string, string>,
  threads: boolean,
): { html: string; pictures: string[] } {
  const pictures: string[] = [];
  const byId = new Map(claims.map((c) => [c.id, c]));
  const sections = axes.map((axis) => {
    const rows = [...axis.rows].sort((a, b) => {
      const broke = (r: typeof a) => ([...r.cells.values()].flat().some((c) => c.record.breaks) ? 0 : 1);
      return broke(a) - broke(b);
    });
    const sources = new Map<string, Claim>();
    for (const row of axis.rows)
      for (const c of [...row.cells.values()].flat())
        for (const id of tagValues(c.scenario.tags, 'claim')) {
          const claim = byId.get(id);
          if (claim && !isFinding(claim)) sources.set(claim.source.file, claim);
        }
    const thread = [...sources.values()]
      .map((c) =>
        threads
          ? `<a href="threads/${esc(c.source.file)}">${esc(c.source.subject ?? c.source.file)}</a> (${esc(c.source.author)})`
          : `<code>${esc(c.source.file)}</code>`,
      )
      .join('; ');
    const broken = rows.filter((r) => [...r.cells.values()].flat().some((c) => c.record.breaks)).length;
    const body = rows
      .map(
        (row) =>
          `<tr class="${[...row.cells.values()].flat().some((c) => c.record.breaks) ? 'breaks-row' : ''}"><td>${esc(row.title)}${row.rule ? `<div class="small">Rule: ${esc(row.rule)}</div>` : ''}</td>${axis.values.map((v) => verdictCell(row.cells.get(v) ?? [], uids, pictures)).join('')}</tr>`,
      )
      .join('\n');
    return `<section id="${esc(axis.key)}"><h2>${esc(axis.title)}</h2>
<p class="small">${rows.length} comparisons in ${axis.uris.map((u) => `<code>${esc(u)}</code>`).join(', ')}; in ${broken} a design breaks a kernel rule.${thread ? ` Thread: ${thread}.` : ''}</p>
<table class="designs"><thead><tr><th>scenario</th>${axis.values.map((v) => `<th>${esc(AXES[axis.key]?.values[v] ?? v)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table></section>`;
  });
  const intro = axes.length
    ? `<p>Each debated design, or each kernel behaviour the engine can select, side by side: the scenarios that run it, and each design's verdict in its own column. <b>holds</b>: the scenario passed and no kernel rule broke. <b>breaks: &lt;rule&gt;</b>: the scenario passed by claiming that this design breaks that debug_vm rule (<code>Then the debug checks report "…"</code>); the step that claims it, the pfn, and the page tables there are shown. A scenario that did not pass says so. Rows where a design breaks come first.</p><ul>${axes.map((a) => `<li><a href="#${esc(a.key)}">${esc(a.title)}</a></li>`).join('')}</ul>`
    : '<p>The last run ran no scenario that selects a design other than the default (designs.ndjson is missing or empty): run the whole suite.</p>';
  return { html: page('Debated designs, side by side', intro + sections.join('')), pictures };
}

/** Build everything but the Allure reports, which scripts/report.ts writes into the site first. */
export function buildSite(): { claims: number; steps: number } {
  mkdirSync(SITE, { recursive: true });
  const claims = loadClaims();
  const features = loadFeatures();
  const run = readLastRun();
  const usage = readUsage() ?? [];

  const shared = sharedDir();
  const threads = shared !== null;
  if (shared) {
    mkdirSync(join(SITE, 'threads'), { recursive: true });
    for (const f of new Set(claims.filter((c) => !isFinding(c)).map((c) => c.source.file)))
      copyFileSync(join(shared, 'seeds', f), join(SITE, 'threads', f));
  }
  if (existsSync('reports/cucumber.html')) copyFileSync('reports/cucumber.html', join(SITE, 'cucumber.html'));
  writeFileSync(join(SITE, 'claims.html'), claimsPage(claims, features, run, threads));
  writeFileSync(join(SITE, 'steps.html'), stepsPage(usage, run));
  const designs = designsPage(
    compareDesigns(features.scenarios, readDesigns(), DEFAULT_CONFIG as unknown as Record<string, unknown>),
    claims,
    allureUids(),
    threads,
  );
  rmSync(join(SITE, 'designs'), { recursive: true, force: true });
  mkdirSync(join(SITE, 'designs'), { recursive: true });
  for (const [i, svg] of designs.pictures.entries())
    writeFileSync(join(SITE, 'designs', `${i + 1}.svg`), svg);
  writeFileSync(join(SITE, 'designs.html'), designs.html);
  const conformance = conformanceTable(features, run);
  writeFileSync(
    join(SITE, 'conformance.html'),
    conformancePage(conformance.cases, conformance.problems, allureUids()),
  );
  const conformed = conformance.cases.filter((c) => c.status === 'passed').length;

  const results = run ? [...run.outcomes.values()] : [];
  const passed = results.filter((r) => r === 'passed').length;
  const card = (href: string, title: string, text: string) =>
    `<div class="card"><h3><a href="${href}">${esc(title)}</a></h3><div class="small">${text}</div></div>`;
  const cards = [
    card(
      'claims.html',
      'Claims',
      `Every claim from the mailing-list threads (${claims.length}), the scenarios that check it and their outcome, its status and its thread.`,
    ),
    card(
      'allure-report/index.html',
      'Allure report',
      'Scenarios by memory kind, topic and claim, each step with a picture of the page tables. Needs to be served over HTTP, as this site is.',
    ),
    card(
      'allure-single/index.html',
      'Allure report, one file',
      'The same report as a single file that opens from disk.',
    ),
    card('cucumber.html', 'Cucumber report', 'Every feature as written, with the pictures after each step.'),
    card(
      'steps.html',
      'Step catalogue',
      `The ${usage.length} step phrases spec authors can use, with examples.`,
    ),
    card(
      'designs.html',
      'Debated designs',
      'Each debated design pair side by side: which design breaks, at which step and why, with the page tables there.',
    ),
    card(
      'conformance.html',
      'Conformance table',
      `The kernel’s own tests (hmm-tests.c, cow.c), case by case: ${conformed} of ${conformance.cases.length} cases pass in the engine.`,
    ),
    ...(threads ? [card('threads/', 'Threads', 'The seed messages the claims come from.')] : []),
    mutationCard(),
  ];
  if (threads)
    writeFileSync(
      join(SITE, 'threads', 'index.html'),
      page(
        'Threads',
        `<ul>${[...new Set(claims.map((c) => c.source))].map((s) => `<li><a href="${esc(s.file)}">${esc(s.file)}</a>: ${esc(s.author)}, ${esc(s.date ?? 'no date in the file')}: ${esc(s.subject ?? s.thread ?? '')}</li>`).join('')}</ul>`,
      ).replace(/href="(index|claims|steps|cucumber)\.html"|href="allure-report\/index\.html"/g, (m) =>
        m.replace('href="', 'href="../'),
      ),
    );
  writeFileSync(
    join(SITE, 'index.html'),
    page(
      'mmspec reports',
      `<p>An executable specification of Linux memory management for device memory. Last full run: ${results.length} scenarios, ${passed} passed, ${results.filter((r) => r === 'failed').length} failed${results.some((r) => r === 'not run') ? `, ${results.filter((r) => r === 'not run').length} not run` : ''}.</p><div class="cards">${cards.join('')}</div>`,
    ),
  );
  return { claims: claims.length, steps: usage.length };
}
