// The bench's own Cucumber profile (bench/run.ts): the project's support code
// and loader, no default paths (so `file:LINE` runs that one scenario) and one
// summary formatter, so the one-scenario figure does not depend on cucumber.js.
module.exports = {
  default: {
    requireModule: [require.resolve('../scripts/compile-cache.js'), 'ts-node/register'],
    require: ['support/**/*.ts', 'steps/**/*.ts'],
    strict: true,
    format: ['summary'],
  },
};
