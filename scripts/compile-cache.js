// typescript.js, which ts-node loads on every start to read tsconfig.json, is
// 9 MB of JavaScript: compiling it is the largest single cost of starting a
// run. This module loads it from V8's code cache (vm.Script cachedData, kept
// in node_modules/.cache/mmspec-v8 and rejected by V8 itself when the file or
// the V8 version changed) and puts it in require.cache, so that ts-node's
// require('typescript') finds it loaded. Node 22 does this for every module
// (module.enableCompileCache); Node 20 cannot. Load it before ts-node/register.
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const file = require.resolve('typescript');
if (!require.cache[file]) {
  const source = readFileSync(file, 'utf8');
  const dir = join(__dirname, '..', 'node_modules', '.cache', 'mmspec-v8');
  const key = createHash('sha256').update(`${process.versions.v8}\0${file}\0${source}`).digest('hex');
  const blob = join(dir, `${key}.bin`);
  let cachedData;
  try {
    cachedData = readFileSync(blob);
  } catch {
    // first run: compile and store below
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(dirname(file));
  require.cache[file] = m;
  try {
    script.runInThisContext()(m.exports, (id) => m.require(id), m, file, dirname(file));
    m.loaded = true;
  } catch (e) {
    delete require.cache[file];
    throw e;
  }
  if (!cachedData || script.cachedDataRejected) {
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${blob}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, blob);
    } catch {
      // a read-only node_modules: run uncached
    }
  }
}
