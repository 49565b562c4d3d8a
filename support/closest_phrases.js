/**
 * A cucumber-js formatter for authors: for each undefined step, the three
 * closest existing phrases, printed to stderr beside Cucumber's own snippet,
 * so that an author who misremembers a phrase finds the one that exists
 * before writing a new step. Closeness: the words the step shares with a
 * phrase (parameters such as {process} match any word), in order (Dice's
 * coefficient over word pairs, with single words as a tie-break).
 * The step catalogue (reports/site/steps.html) lists every phrase.
 * Plain JavaScript (CommonJS), loaded by path from cucumber.js.
 */
const { Formatter } = require('@cucumber/cucumber');

const words = (s) =>
  s
    .toLowerCase()
    .replace(/\{[^}]*\}/g, ' * ')
    .replace(/\(s\)|\/\w+/g, '')
    .replace(/["'()\\^$]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);

/** How close a step's text is to a phrase, from 0 to 1. */
function closeness(text, pattern) {
  const a = words(text);
  const b = words(pattern);
  const pairs = (w) => w.slice(1).map((x, i) => `${w[i]} ${x}`);
  const same = (x, y) =>
    x === y || x === '*' || y === '*' || (x.length > 3 && y.length > 3 && (x.includes(y) || y.includes(x)));
  const common = (xs, ys) => {
    const left = [...ys];
    let n = 0;
    for (const x of xs) {
      const i = left.findIndex((y) => x.split(' ').every((p, k) => same(p, y.split(' ')[k] ?? '')));
      if (i >= 0) {
        n++;
        left.splice(i, 1);
      }
    }
    return n;
  };
  const pa = pairs(a);
  const pb = pairs(b);
  const dice = pa.length + pb.length ? (2 * common(pa, pb)) / (pa.length + pb.length) : 0;
  const single = (2 * common(a, b)) / (a.length + b.length || 1);
  return 0.7 * dice + 0.3 * single;
}

class ClosestPhrases extends Formatter {
  constructor(options) {
    super(options);
    const definitions = [];
    const pickleSteps = new Map();
    const testSteps = new Map();
    const printed = new Set();
    options.eventBroadcaster.on('envelope', (e) => {
      if (e.stepDefinition) {
        definitions.push({
          pattern: e.stepDefinition.pattern.source,
          where: `${e.stepDefinition.sourceReference.uri}:${e.stepDefinition.sourceReference.location?.line ?? ''}`,
        });
      } else if (e.pickle) {
        for (const s of e.pickle.steps) pickleSteps.set(s.id, { text: s.text, uri: e.pickle.uri });
      } else if (e.testCase) {
        for (const s of e.testCase.testSteps) if (s.pickleStepId) testSteps.set(s.id, s.pickleStepId);
      } else if (e.testStepFinished?.testStepResult.status === 'UNDEFINED') {
        const step = pickleSteps.get(testSteps.get(e.testStepFinished.testStepId));
        if (!step || printed.has(step.text)) return;
        printed.add(step.text);
        const best = definitions
          .map((d) => ({ ...d, score: closeness(step.text, d.pattern) }))
          .sort((x, y) => y.score - x.score)
          .slice(0, 3);
        process.stderr.write(
          `\nUndefined step "${step.text}" (${step.uri}): the closest existing phrases are\n${best
            .map((d) => `  ${d.pattern}    (${d.where})`)
            .join('\n')}\nEvery phrase, with an example: reports/site/steps.html (npm run report).\n`,
        );
      }
    });
  }
}

module.exports = ClosestPhrases;
module.exports.default = ClosestPhrases;
module.exports.closeness = closeness;
