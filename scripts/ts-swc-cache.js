// ts-node's transpiler (tsconfig.json "ts-node".transpiler): ts-node's own SWC
// transpiler (ts-node/transpilers/swc, @swc/core), with a compile cache on disk.
//
// Why: with TypeScript's transpileModule, loading the engine, support and steps
// (69 files, 650 kB) cost about 1.1 s of a 2.8 s one-scenario run; SWC does the
// same files in about 0.2 s, and a cache hit needs neither SWC nor its native
// module loaded. The output is SWC's for the same tsconfig options, so a cold and
// a warm run run the same JavaScript.
//
// Cache: node_modules/.cache/mmspec-ts/<sha256>.json, keyed by the file's name and
// text, the compiler options ts-node hands over, and the versions of @swc/core and
// of this file; written to a temporary name and renamed, so parallel workers never
// read half an entry. Delete the folder to start cold.
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const CACHE = join(__dirname, '..', 'node_modules', '.cache', 'mmspec-ts');
const SELF = createHash('sha256').update(readFileSync(__filename)).digest('hex');

exports.create = function create(createOptions) {
  let swc = null;
  const inner = () => {
    if (!swc) swc = require('ts-node/transpilers/swc').create(createOptions);
    return swc;
  };
  const swcVersion = require('@swc/core/package.json').version;
  const options = JSON.stringify(createOptions.service.config.options);
  let made = false;
  return {
    transpile(input, transpileOptions) {
      const key = createHash('sha256')
        .update(`${SELF}\0${swcVersion}\0${options}\0${transpileOptions.fileName}\0${input}`)
        .digest('hex');
      const file = join(CACHE, `${key}.json`);
      try {
        return JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        // not cached yet (or unreadable): transpile and store
      }
      const out = inner().transpile(input, transpileOptions);
      if (out.diagnostics?.length) return out;
      try {
        if (!made) mkdirSync(CACHE, { recursive: true });
        made = true;
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify({ outputText: out.outputText, sourceMapText: out.sourceMapText }));
        renameSync(tmp, file);
      } catch {
        // a read-only node_modules: run uncached
      }
      return out;
    },
  };
};
