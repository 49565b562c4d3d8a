/**
 * Whether a cucumber-js command line asks for the whole suite or a part of
 * it, read with cucumber-js's own argument parser (so `--tags=x`, `-t x` and
 * `--name x` mean what they mean to it). Plain JavaScript: cucumber.js loads
 * it before ts-node is registered.
 *
 * A run is partial when it names paths (a file, a file:LINE, a folder), or
 * filters or stops early: --name, --tags, --dry-run, --shard, --fail-fast.
 * A shard that is not INDEX/TOTAL with 1 <= INDEX <= TOTAL is an error that
 * says so (cucumber-js 12 runs `--shard 3/2` as zero scenarios and passes).
 */
const ArgvParser = require('@cucumber/cucumber/lib/configuration/argv_parser').default;

/**
 * @param {string[]} args the command line after `node cucumber-js`
 * @returns {{ partial: boolean, why: string[] }}
 */
function runKind(args) {
  const { configuration } = ArgvParser.parse(['node', 'cucumber-js', ...args]);
  const why = [];
  if (configuration.paths?.length) why.push(`paths ${configuration.paths.join(' ')}`);
  if (configuration.name?.length) why.push(`--name ${configuration.name.join(' ')}`);
  if (configuration.tags) why.push(`--tags ${configuration.tags}`);
  if (configuration.dryRun) why.push('--dry-run');
  if (configuration.failFast) why.push('--fail-fast');
  if (configuration.shard !== undefined) {
    const shard = String(configuration.shard);
    const m = /^(\d+)\/(\d+)$/.exec(shard);
    if (!m)
      throw new Error(
        `--shard ${shard}: a shard is INDEX/TOTAL, two whole numbers (--shard 1/3 runs the first of 3)`,
      );
    const [index, total] = [Number(m[1]), Number(m[2])];
    if (total < 1 || index < 1 || index > total)
      throw new Error(
        `--shard ${shard}: shard ${index} of ${total} does not exist; INDEX runs from 1 to TOTAL (here 1 to ${Math.max(total, 1)})`,
      );
    why.push(`--shard ${shard}`);
  }
  return { partial: why.length > 0, why };
}

module.exports = { runKind };
