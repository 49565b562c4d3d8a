/**
 * Allure's categories for mmspec (allure-cucumberjs's `categories` option,
 * set in cucumber.js): Allure 2 files each result under the first that
 * matches, and names the category, so a reviewer sees the rule, not a stack
 * trace.
 *   - "Design breaks (claimed): <rule>" for a passed scenario whose
 *     expectation is that its design breaks a kernel rule (its status message
 *     is "design breaks: <rule>", set by support/allure_reporter.js)
 *   - "Spec violated: <invariant>" for each debug_vm invariant of
 *     engine/mm/debug_vm.ts (an unclaimed KernelInvariantViolation)
 *   - "Expectation failed", "Harness error"
 * Plain JavaScript, so it reads the invariants' names from the engine's
 * source (the keys of DEBUG_VM_INVARIANTS) rather than importing TypeScript.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The names of the debug_vm invariants, in the order engine/mm/debug_vm.ts lists them. */
function invariants(file = join(__dirname, '..', 'engine', 'mm', 'debug_vm.ts')) {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf('export const DEBUG_VM_INVARIANTS = {');
  const end = text.indexOf('} as const;', start);
  if (start < 0 || end < 0) throw new Error(`${file}: no DEBUG_VM_INVARIANTS table`);
  return [...text.slice(start, end).matchAll(/^ {2}(['"])(.+?)\1:/gm)].map((m) => m[2]);
}

function categories() {
  return [
    {
      name: 'Design breaks (claimed)',
      description:
        'The scenario holds: its design breaks the kernel rule it names, as the scenario claims. Compare designs in designs.html.',
      matchedStatuses: ['passed'],
      messageRegex: '^design breaks: .*',
    },
    ...invariants().map((rule) => ({
      name: `Spec violated: ${rule}`,
      description: `The engine broke the debug_vm invariant "${rule}" and no Then-step claimed it: the model or the scenario is wrong.`,
      matchedStatuses: ['failed', 'broken'],
      messageRegex: `(?s).*invariant "${escapeRegex(rule)}" violated.*`,
    })),
    {
      name: 'Expectation failed',
      description:
        'A Then-step (or the check for unclaimed outcomes) found the state other than the claim says.',
      matchedStatuses: ['failed'],
    },
    {
      name: 'Harness error',
      description:
        'The scenario could not run as written: an undefined step, a misused engine, a bug in a step.',
      matchedStatuses: ['broken'],
    },
  ];
}

module.exports = { categories, invariants };
