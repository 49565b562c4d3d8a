/**
 * Finds Debian's Chromium for the browser test of the report, and installs
 * it when it is missing: with apt-get where this runs as root (apt-get update
 * first), otherwise by saying how. Playwright's own browser downloads are
 * never used. `node -r ts-node/register scripts/ensure-browser.ts` prints the
 * browser's path, or exits 1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.MMSPEC_CHROMIUM ?? '/usr/bin/chromium';

function apt(args: string[]): boolean {
  console.log(`$ apt-get ${args.join(' ')}`);
  const r = spawnSync('apt-get', args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

/** The path of Chromium, installing it first if needed and possible; null (with a message) if not. */
export function ensureChromium(): string | null {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (root && hasApt) {
    console.log(`${CHROMIUM} is missing: installing Debian's chromium package.`);
    if (
      apt(['update']) &&
      apt(['install', '-y', '--no-install-recommends', 'chromium']) &&
      existsSync(CHROMIUM)
    )
      return CHROMIUM;
    console.error('apt-get could not install chromium.');
    return null;
  }
  console.error(
    [
      `The browser test needs Chromium at ${CHROMIUM} (or set MMSPEC_CHROMIUM to another Chromium).`,
      'Install it, then run npm run test:report again:',
      '  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y chromium',
      '  Fedora:         sudo dnf install -y chromium',
      '  macOS:          brew install --cask chromium, then MMSPEC_CHROMIUM=/Applications/Chromium.app/Contents/MacOS/Chromium',
    ].join('\n'),
  );
  return null;
}

if (require.main === module) {
  const path = ensureChromium();
  if (!path) process.exit(1);
  console.log(path);
}
