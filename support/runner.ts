/**
 * Runs cucumber-js itself, as a child process, on a scratch project: a
 * temporary folder holding feature files (and, if a scenario needs them,
 * extra step files) that uses this project's real support and step code.
 * The harness features (features/harness) use it to check what the runner
 * prints on bad input, as cucumber-js's own features/ do.
 *
 * The child loads the project's TypeScript through a small require hook over
 * JavaScript transpiled once per test process (SWC, with the options ts-node's
 * SWC transpiler uses for this project: the same per-file, type-blind
 * transpilation), because ts-node costs well over a second per child.
 * (TypeScript's transpileModule took about 7 s of CPU for the 69 files on a
 * loaded 2-core host, SWC 0.2 s.) MMSPEC_SCRATCH_LOADER=ts-node
 * makes the children use ts-node/register instead.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The root of this project (support/..). */
export const PROJECT = path.resolve(__dirname, '..');
/** The project's own cucumber-js: the installation its step files register with. */
const CUCUMBER_BIN = path.join(PROJECT, 'node_modules', '@cucumber', 'cucumber', 'bin', 'cucumber.js');
const TIMEOUT_MS = 60_000;

/** The outcome of one run of cucumber-js. */
export interface RunResult {
  /** The exit code, or null when the child was killed (see `signal`). */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Everything the child wrote, stdout and stderr interleaved as written. */
  readonly output: string;
  readonly args: readonly string[];
}

/** SWC, loaded only when a scratch project is first run (not by every test process). */
type Swc = typeof import('@swc/core');
let swc: Swc | undefined;
function swcCore(): Swc {
  swc ??= require(path.join(PROJECT, 'node_modules', '@swc', 'core')) as Swc;
  return swc;
}

/**
 * The SWC options ts-node's SWC transpiler (tsconfig.json, scripts/ts-swc-cache.js)
 * derives from this project's compilerOptions (ES2022, CommonJS through
 * nodenext, esModuleInterop), with the source map inline.
 */
const SWC_OPTIONS = {
  sourceMaps: 'inline',
  swcrc: false,
  module: { type: 'commonjs', noInterop: false, strictMode: true, ignoreDynamic: true },
  jsc: {
    parser: { syntax: 'typescript', tsx: false, dynamicImport: true },
    target: 'es2022',
    keepClassNames: true,
    transform: { useDefineForClassFields: true },
  },
} as const;

function transpile(file: string): string {
  return swcCore().transformSync(fs.readFileSync(file, 'utf8'), { ...SWC_OPTIONS, filename: file }).code;
}

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(dir, f));
}

/**
 * The require hook a child loads first: each .ts file runs from its
 * transpiled copy (any other .ts file is transpiled on the spot), with source
 * maps on so that stack traces and step locations name .ts lines.
 */
function hookSource(): string {
  return `'use strict';
const fs = require('node:fs');
const map = require('./map.json');
let swc;
process.setSourceMapsEnabled(true);
require.extensions['.ts'] = function (module, filename) {
  let js;
  if (map[filename]) js = fs.readFileSync(map[filename], 'utf8');
  else {
    swc ??= require(${JSON.stringify(path.join(PROJECT, 'node_modules', '@swc', 'core'))});
    const options = ${JSON.stringify(SWC_OPTIONS)};
    js = swc.transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename }).code;
  }
  module._compile(js, filename);
};
`;
}

/** The transpiled project (engine, support, steps), built on first use and kept for this process. */
let projectJs: { dir: string; map: Record<string, string> } | undefined;
function transpiledProject(): { dir: string; map: Record<string, string> } {
  if (projectJs) return projectJs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmspec-js-'));
  const map: Record<string, string> = {};
  for (const file of ['engine', 'support', 'steps'].flatMap((d) => tsFiles(path.join(PROJECT, d)))) {
    const js = path.join(dir, `${Object.keys(map).length}-${path.basename(file, '.ts')}.js`);
    fs.writeFileSync(js, transpile(file));
    map[file] = js;
  }
  projectJs = { dir, map };
  return projectJs;
}

/** Scratch projects not yet removed, so that a test process can sweep them all at its end. */
const live = new Set<ScratchProject>();
let sweepOnExit = false;

export class ScratchProject {
  readonly dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mmspec-scratch-')));
  private readonly stepFiles: string[] = [];
  lastRun: RunResult | undefined;
  /** Every run in this project, in order: a failure's attachment shows them all, not only the last. */
  readonly runs: RunResult[] = [];

  constructor() {
    fs.mkdirSync(path.join(this.dir, 'features'));
    if (!sweepOnExit) process.once('exit', removeScratchProjects);
    sweepOnExit = true;
    live.add(this);
  }

  /** Path of a file inside the project; refuses paths that would leave it. */
  resolve(relative: string): string {
    const file = path.resolve(this.dir, relative);
    if (!file.startsWith(this.dir + path.sep))
      throw new Error(`"${relative}" is outside the scratch project`);
    return file;
  }

  private write(relative: string, text: string): string {
    const file = this.resolve(relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
    return file;
  }

  writeFeature(name: string, text: string): void {
    this.write(path.join('features', name), text);
  }

  /** A step file of the scratch project's own (in extra_steps/), loaded after the project's steps. */
  writeStepFile(name: string, text: string): void {
    this.stepFiles.push(this.write(path.join('extra_steps', name), text));
  }

  /**
   * Run cucumber-js on features/ with the project's support and step code.
   * Without a profile, the options are explicit (summary format, strict).
   * With one, the run takes that profile from the project's cucumber.js, with
   * support/ and steps/ linked into the scratch project so that its relative
   * paths resolve, and writes its reports under the scratch project.
   */
  run(profile?: string, extra: readonly string[] = []): RunResult {
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => !k.startsWith('CUCUMBER_') && !k.startsWith('TS_NODE_') && !k.startsWith('MMSPEC_RUN'),
      ),
    );
    env.FORCE_COLOR = '0';
    // Scratch step files live outside the project; let them import @cucumber/cucumber and chai from it.
    env.NODE_PATH = [path.join(PROJECT, 'node_modules'), env.NODE_PATH].filter(Boolean).join(path.delimiter);
    let loader: string;
    if (process.env.MMSPEC_SCRATCH_LOADER === 'ts-node') {
      loader = require.resolve('ts-node/register', { paths: [PROJECT] });
      env.TS_NODE_PROJECT = path.join(PROJECT, 'tsconfig.json');
      env.TS_NODE_TRANSPILE_ONLY = 'true';
    } else {
      loader = this.writeLoader();
    }
    const own = this.stepFiles.flatMap((f) => ['--require', f]);
    let options: string[];
    if (profile) {
      this.linkSupport();
      // The loader comes after the profile's ts-node/register, so it is the one that handles .ts files.
      // cucumber-js joins --config onto its working directory, so the path must be relative.
      const config = path.relative(this.dir, path.join(PROJECT, 'cucumber.js'));
      options = ['--config', config, '--profile', profile, '--require-module', loader, ...own, ...extra];
    } else {
      options = [
        '--require-module',
        loader,
        ...['support', 'steps'].flatMap((d) => ['--require', path.join(PROJECT, d, '**', '!(*.d).ts')]),
        ...own,
        '--format',
        'summary',
        '--strict',
        ...extra,
        ...(extra.some((a) => !a.startsWith('-')) ? [] : ['features/**/*.feature']),
      ];
    }
    return this.spawn([CUCUMBER_BIN, ...options], options, env);
  }

  /**
   * Run one of the project's scripts (scripts/<name>.ts) in the scratch
   * project, through the same loader as cucumber-js, as `npm run` would.
   */
  runScript(name: string, extra: readonly string[] = []): RunResult {
    this.linkSupport();
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('CUCUMBER_') && !k.startsWith('MMSPEC_RUN')),
    );
    env.FORCE_COLOR = '0';
    const script = path.join(PROJECT, 'scripts', `${name}.ts`);
    return this.spawn(['-r', this.writeLoader(), script, ...extra], [name, ...extra], env);
  }

  private spawn(args: string[], options: readonly string[], env: NodeJS.ProcessEnv): RunResult {
    const outputFile = path.join(this.dir, 'output.txt');
    const fd = fs.openSync(outputFile, 'w');
    let child: ReturnType<typeof spawnSync>;
    try {
      child = spawnSync(process.execPath, args, {
        cwd: this.dir,
        env,
        stdio: ['ignore', fd, fd],
        timeout: TIMEOUT_MS,
      });
    } finally {
      fs.closeSync(fd);
    }
    if (child.error) throw child.error;
    this.lastRun = {
      exitCode: child.status,
      signal: child.signal,
      output: fs.readFileSync(outputFile, 'utf8'),
      args: options,
    };
    this.runs.push(this.lastRun);
    return this.lastRun;
  }

  /** support/ and steps/ linked into the scratch project, so that the profile's relative paths resolve. */
  private linkSupport(): void {
    for (const folder of ['support', 'steps'])
      if (!fs.existsSync(this.resolve(folder)))
        fs.symlinkSync(path.join(PROJECT, folder), this.resolve(folder), 'dir');
  }

  /** The require hook for this run: the project's transpiled files plus this project's own step files. */
  writeLoader(): string {
    const project = transpiledProject();
    const dir = this.resolve('.loader');
    fs.mkdirSync(dir, { recursive: true });
    const map = { ...project.map };
    for (const file of this.stepFiles) {
      const js = path.join(dir, `${path.basename(file, '.ts')}.js`);
      fs.writeFileSync(js, transpile(file));
      map[file] = js;
    }
    fs.writeFileSync(path.join(dir, 'map.json'), JSON.stringify(map));
    fs.writeFileSync(path.join(dir, 'hook.js'), hookSource());
    return path.join(dir, 'hook.js');
  }

  /** The files the runs wrote whose names end in `suffix`, anywhere in the project but its links and loader. */
  filesEndingIn(suffix: string): string[] {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory() && entry.name !== '.loader') walk(file);
        else if (entry.isFile() && entry.name.endsWith(suffix)) found.push(file);
      }
    };
    walk(this.dir);
    return found.sort();
  }

  read(relative: string): string {
    return fs.readFileSync(this.resolve(relative), 'utf8');
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }
}

/** Remove every scratch project and the transpiled project (end of a test process). */
export function removeScratchProjects(): void {
  for (const project of [...live]) project.remove();
  if (projectJs) fs.rmSync(projectJs.dir, { recursive: true, force: true });
  projectJs = undefined;
}
