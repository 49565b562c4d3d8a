/**
 * allure-cucumberjs's reporter, told what mmspec's Gherkin means. It reads
 * labels and links from Feature and Scenario tags only, and every @claim tag
 * of this suite sits on a Rule: line, so no result carried its claim. This
 * subclass gives each result, through the reporter's own runtime
 * (ReporterRuntime.updateTest, the API the runtime messages of
 * allure-js-commons end in), from the pickle's tags (which cucumber-js
 * inherits from Feature, Rule, Scenario and Examples):
 *   - story: each claim (@claim:<id>), with links to its source message (the
 *     thread in the site, and lore.kernel.org when the registry has its id);
 *     a scenario of no claim is the story of its Rule (or its Feature)
 *   - epic: the memory kind (@memory:<kind>, @device-*, @fs-dax, or the folder)
 *   - parentSuite / suite / subSuite: folder, feature, rule (the Suites tab)
 *   - severity from the claim's status (violated blocker, disputed critical,
 *     accepted normal, superseded minor; conformance minor; harness trivial)
 *   - a link to every @kernel:<function>
 *   - the description: the Rule's one-line claim and its paragraph, the
 *     scenario's own text and the claim's statement and quote, as Markdown
 *     (dedented, so Allure's Markdown does not take indented prose for code)
 *   - a scenario that claims a broken kernel rule (`Then the debug checks
 *     report "<rule>"`, `Then debug_vm reports "<rule>"`) is a design that
 *     breaks: it stays passed (the claim held) but gets the label
 *     `verdict: design breaks` and the status message `design breaks:
 *     <rule>`, which the category "Design breaks (claimed)" collects, so it is
 *     never a plain green pass.
 * Plain JavaScript (CommonJS): cucumber-js loads formatters by path, before
 * and apart from the support code's ts-node.
 */
const { existsSync, readFileSync } = require('node:fs');
const reporterModule = require('allure-cucumberjs/reporter');
const AllureCucumberReporter = reporterModule.default ?? reporterModule;
const { parse } = require('yaml');

/** The step phrases that claim a broken kernel rule: the verdict that a design breaks. */
const BREAKS = /^(?:the debug checks report|debug_vm reports) "(.+)"$/;

/** The memory kind of a scenario (its Allure epic), from its tags or its folder. */
function memoryKind(tags, uri) {
  const tagged = tags.find((t) => t.startsWith('@memory:'));
  if (tagged) return tagged.slice(8);
  if (tags.includes('@device-coherent')) return 'device-coherent memory';
  if (tags.includes('@device-private')) return 'device-private memory';
  if (tags.includes('@device-exclusive')) return 'device-exclusive entries on system RAM';
  if (tags.some((t) => /^@(fs-?)?dax$/.test(t)) || uri.startsWith('features/dax/')) return 'FS-DAX memory';
  if (uri.startsWith('features/harness/')) return 'the harness itself';
  if (uri.startsWith('features/matrix/')) return 'every kind (the semantics matrix)';
  return 'system RAM';
}

/** Allure severity from what the scenario checks. */
function severityOf(claims, uri) {
  const order = ['blocker', 'critical', 'normal', 'minor', 'trivial'];
  const bySt = { violated: 'blocker', disputed: 'critical', accepted: 'normal', superseded: 'minor' };
  const levels = claims.map((c) => bySt[c.status]).filter(Boolean);
  if (levels.length) return levels.sort((a, b) => order.indexOf(a) - order.indexOf(b))[0];
  if (uri.startsWith('features/conformance/')) return 'minor';
  if (uri.startsWith('features/harness/')) return 'trivial';
  return 'normal';
}

/** Gherkin free text as Markdown paragraphs: each line's indentation removed. */
function dedent(text) {
  return (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .trim();
}

function loadClaims(file = 'claims/claims.yaml') {
  if (!existsSync(file)) return new Map();
  const doc = parse(readFileSync(file, 'utf8'));
  return new Map((doc?.claims ?? []).map((c) => [c.id, c]));
}

class MmspecAllureReporter extends AllureCucumberReporter {
  constructor(options) {
    super(options);
    this.claims = loadClaims();
    this.threadsUrl = options.parsedArgvOptions.threadsUrl ?? '../threads';
    /** The rule each design-breaking test case claimed, by testCaseStarted id. */
    this.breaks = new Map();
  }

  /** The Rule a scenario sits under, if any. */
  ruleOf(doc, scenarioId) {
    for (const child of doc?.feature?.children ?? [])
      if (child.rule?.children.some((c) => c.scenario?.id === scenarioId)) return child.rule;
    return null;
  }

  onTestCaseStarted(data) {
    super.onTestCaseStarted(data);
    const uuid = this.testResultUuids.get(data.id);
    const testCase = this.testCaseMap.get(data.testCaseId);
    const pickle = testCase && this.pickleMap.get(testCase.pickleId);
    if (!uuid || !pickle) return;
    const doc = this.documentMap.get(pickle.uri);
    const scenario = this.scenarioMap.get(pickle.astNodeIds[0]);
    const rule = this.ruleOf(doc, pickle.astNodeIds[0]);
    const tags = pickle.tags.map((t) => t.name);
    const uri = pickle.uri.split('\\').join('/');
    const ids = [...new Set(tags.filter((t) => t.startsWith('@claim:')).map((t) => t.slice(7)))];
    const claims = ids.map((id) => this.claims.get(id)).filter(Boolean);
    const kernel = [...new Set(tags.filter((t) => t.startsWith('@kernel:')).map((t) => t.slice(8)))];
    this.allureRuntime.updateTest(uuid, (r) => {
      const set = (name, value) => {
        r.labels = r.labels.filter((l) => l.name !== name);
        r.labels.push({ name, value });
      };
      for (const id of ids)
        if (!r.labels.some((l) => l.name === 'story' && l.value === id))
          r.labels.push({ name: 'story', value: id });
      /* A scenario of no seed claim (a kernel selftest restated, the harness) is the story of its Rule, or its feature. */
      if (!ids.length) set('story', rule ? rule.name : (doc?.feature?.name ?? uri));
      set('epic', memoryKind(tags, uri));
      set('parentSuite', uri.split('/').slice(0, -1).join('/'));
      set('suite', doc?.feature?.name ?? uri);
      set('subSuite', rule ? rule.name : '(no rule)');
      set('severity', severityOf(claims, uri));
      for (const fn of kernel) {
        const url = `https://elixir.bootlin.com/linux/latest/A/ident/${fn}`;
        r.links = r.links.filter((l) => l.url !== url);
        r.links.push({ name: `kernel: ${fn}`, url, type: 'kernel' });
      }
      for (const c of claims) {
        const who = `${c.source?.author ?? ''}${c.source?.date ? `, ${c.source.date}` : ''}`;
        if (c.source?.file && !/^M\d{3}-\d+$/.test(c.id))
          r.links.push({
            name: `${c.id} source: ${who}`,
            url: `${this.threadsUrl}/${c.source.file}`,
            type: 'link',
          });
        if (c.source?.message_id)
          r.links.push({
            name: `${c.id} on lore.kernel.org`,
            url: `https://lore.kernel.org/r/${c.source.message_id}`,
            type: 'link',
          });
      }
      const parts = [];
      if (rule) parts.push(`**Rule:** ${rule.name}`, dedent(rule.description));
      if (scenario?.description) parts.push(dedent(scenario.description));
      for (const c of claims)
        parts.push(
          `**Claim ${c.id}** (${c.status}): ${c.statement}\n\n> ${c.quote}\n\n— ${c.source?.author ?? ''}${c.source?.date ? `, ${c.source.date}` : ''}`,
        );
      if (!rule && !scenario?.description) parts.push(dedent(doc?.feature?.description));
      r.description = parts.filter(Boolean).join('\n\n');
    });
  }

  onTestStepFinished(data) {
    const step = this.testStepMap.get(data.testStepId);
    const text = step?.pickleStepId && this.pickleStepMap.get(step.pickleStepId)?.text;
    const m = text && BREAKS.exec(text);
    if (m && data.testStepResult.status === 'PASSED') this.breaks.set(data.testCaseStartedId, m[1]);
    super.onTestStepFinished(data);
  }

  onTestCaseFinished(data) {
    const rule = this.breaks.get(data.testCaseStartedId);
    const uuid = this.testResultUuids.get(data.testCaseStartedId);
    if (rule && uuid)
      this.allureRuntime.updateTest(uuid, (r) => {
        r.labels.push({ name: 'verdict', value: 'design breaks' }, { name: 'tag', value: 'design breaks' });
        r.statusDetails = { ...r.statusDetails, message: `design breaks: ${rule}` };
      });
    this.breaks.delete(data.testCaseStartedId);
    super.onTestCaseFinished(data);
  }
}

module.exports = MmspecAllureReporter;
module.exports.default = MmspecAllureReporter;
module.exports.memoryKind = memoryKind;
module.exports.BREAKS = BREAKS;
