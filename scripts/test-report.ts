/**
 * npm run test:report: checks the published site (reports/site/, built by
 * npm run report) the way a person sees it, in Debian's Chromium driven by
 * playwright-core. The site is served on 127.0.0.1; every request the
 * browser makes to any other address is refused and fails the test.
 *
 * It checks that the index links every report; that the claims table lists
 * every claim of claims/claims.yaml (and of seed-claims.md, when shared/ is
 * at hand) with its status; that a scenario opened from the claims table
 * shows its steps and its state picture in the Allure report; that the
 * single-file Allure report, the Cucumber report and the step catalogue
 * open. Screenshots go to reports/screenshots/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import sirv from 'sirv';
import { ensureChromium } from './ensure-browser';
import { loadClaims, seedClaimIds, sharedDir } from './lib/claims';
import { loadKernelTests, STATUS_ORDER } from './lib/conformance';
import { readUsage } from './lib/run';
import { SITE } from './site';

const SHOTS = 'reports/screenshots';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const failures: string[] = [];
let passed = 0;
function check(ok: boolean, what: string): void {
  if (ok) passed++;
  else failures.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

async function main(): Promise<void> {
  const executablePath = ensureChromium();
  if (!executablePath) process.exit(1);

  const server = createServer(sirv(SITE, { dev: true, dotfiles: false }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profile = mkdtempSync(join(tmpdir(), 'mmspec-chromium-'));
  mkdirSync(SHOTS, { recursive: true });

  let context: BrowserContext | undefined;
  const outside: string[] = [];
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: FLAGS,
      viewport: { width: 1400, height: 1000 },
    });
    // Nothing may leave 127.0.0.1: refuse any other request, and remember it.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1')
        return route.continue();
      outside.push(route.request().url());
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await indexPage(page, origin);
    await claimsPage(page, origin);
    await scenarioPage(page);
    await otherReports(page, origin);
    await conformancePage(page, origin);
    check(
      errors.length === 0,
      `no script errors on the pages${errors.length ? `: ${errors.join('; ')}` : ''}`,
    );
  } finally {
    await context?.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
  check(outside.length === 0, `no request left 127.0.0.1${outside.length ? `: ${outside.join(', ')}` : ''}`);
  console.log(
    `browser test of ${SITE}: ${passed} checks passed, ${failures.length} failed; screenshots in ${SHOTS}/`,
  );
  if (failures.length) process.exit(1);
}

async function indexPage(page: Page, origin: string): Promise<void> {
  const response = await page.goto(`${origin}/index.html`);
  check(response?.status() === 200, 'the index page loads');
  const hrefs = await page
    .locator('.card a')
    .evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
  for (const want of [
    'claims.html',
    'allure-report/index.html',
    'allure-single/index.html',
    'cucumber.html',
    'steps.html',
    'conformance.html',
  ])
    check(hrefs.includes(want), `the index links ${want}`);
  for (const href of hrefs) {
    const r = await page.request.get(`${origin}/${href}`);
    check(r.status() === 200, `${href} is there (HTTP ${r.status()})`);
  }
  await page.screenshot({ path: join(SHOTS, 'index.png') });
}

async function claimsPage(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/claims.html`);
  const claims = loadClaims();
  const shared = sharedDir();
  const ids = new Set([...claims.map((c) => c.id), ...(shared ? seedClaimIds(shared) : [])]);
  const rows = page.locator('#claims tbody tr');
  check((await rows.count()) === ids.size, `the claims table has one row per claim (${ids.size})`);
  const wrong: string[] = [];
  for (const id of ids) {
    const claim = claims.find((c) => c.id === id);
    const row = page.locator(`#claims tr[id="${id}"]`);
    if ((await row.count()) !== 1 || !claim) {
      wrong.push(`${id}: no row`);
      continue;
    }
    const status = (await row.locator('td.status').innerText()).trim();
    if (status !== claim.status) wrong.push(`${id}: shows "${status}", the registry says "${claim.status}"`);
    if (!(await row.isVisible())) wrong.push(`${id}: not visible`);
  }
  check(
    wrong.length === 0,
    `every seed claim is listed with its status${wrong.length ? `: ${wrong.join('; ')}` : ''}`,
  );
  await page.screenshot({ path: join(SHOTS, 'claims.png') });
}

/** Open a scenario from the claims table as a reader would, and look for its steps and its picture. */
async function scenarioPage(page: Page): Promise<void> {
  // A device scenario with more than one process, if there is one: its picture says the most.
  const preferred = page.locator('#claims li', { hasText: 'features/device/' }).locator('a.scenario');
  const link = (await preferred.count()) > 0 ? preferred.first() : page.locator('#claims a.scenario').first();
  check((await link.count()) === 1, 'the claims table links a scenario to the Allure report');
  const name = (await link.innerText())
    .split('\n')[0]
    .replace(/\s*\(.*\)$/, '')
    .trim();
  await link.click();
  await page.waitForSelector('.test-result__name', { timeout: 30_000 });
  check(
    (await page.locator('.test-result__name').innerText()).includes(name),
    `the scenario page is "${name}"`,
  );
  const steps = await page.locator('.step__name').allInnerTexts();
  check(
    steps.some((s) => s.startsWith('When ') || s.startsWith('Given ')) &&
      steps.some((s) => s.startsWith('Then ')),
    `the scenario page shows its steps (${steps.length})`,
  );
  const title = page.locator('.step__title', { hasText: /attachments?/ }).first();
  check((await title.count()) === 1, 'a step has the state picture attached');
  await title.click();
  const step = title.locator('xpath=..');
  await step.locator('.attachment-row', { hasText: 'page tables.svg' }).first().click();
  const picture = step.locator('img.attachment-preview__media').first();
  await picture.waitFor({ timeout: 30_000 });
  const size = await picture.evaluate((img: HTMLImageElement) => ({
    w: img.naturalWidth,
    h: img.naturalHeight,
  }));
  check(size.w > 100 && size.h > 50, `the state picture is drawn (${size.w}×${size.h})`);
  // Show the step and as much of its picture as fits.
  await title.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: join(SHOTS, 'scenario.png') });
}

async function otherReports(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/allure-single/index.html`);
  await page.waitForSelector('.side-nav, .app', { timeout: 30_000 });
  check((await page.title()).includes('Allure'), 'the single-file Allure report opens');

  await page.goto(`${origin}/cucumber.html`);
  await page.waitForSelector('text=passed', { timeout: 30_000 });
  const cucumber = await page.locator('body').innerText();
  check(/features\/\S+\.feature/.test(cucumber), 'the Cucumber report shows the feature files');
  await page.screenshot({ path: join(SHOTS, 'cucumber.png') });

  await page.goto(`${origin}/steps.html`);
  const definitions = readUsage()?.length ?? 0;
  check(
    (await page.locator('#steps tbody tr').count()) === definitions && definitions > 0,
    `the step catalogue lists every step definition (${definitions})`,
  );
  check(
    (await page.locator('#parameters tbody tr').count()) > 0,
    'the step catalogue lists the parameter types',
  );
  await page.screenshot({ path: join(SHOTS, 'steps.png') });
}

/** The conformance table: one row per kernel test case of the registry, each with a status. */
async function conformancePage(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/conformance.html`);
  const registry = loadKernelTests();
  const hmm = registry['hmm-tests'].tests.reduce(
    (n, t) => n + (registry['hmm-tests'].variants[t.fixture]?.length ?? 0),
    0,
  );
  const cow = registry.cow.cases.length * registry.cow.backings.length;
  const rows = page.locator('table.conformance tbody tr');
  check(
    (await rows.count()) === hmm + cow,
    `the conformance table has a row per kernel test case (${hmm} of hmm-tests.c, ${cow} of cow.c)`,
  );
  const statuses = await rows.locator('td:nth-child(2)').allInnerTexts();
  const unknown = statuses.filter((t) => !STATUS_ORDER.includes(t.trim() as (typeof STATUS_ORDER)[number]));
  check(
    unknown.length === 0,
    `every case shows a status${unknown.length ? `: ${unknown.slice(0, 3).join(', ')}` : ''}`,
  );
  await page.screenshot({ path: join(SHOTS, 'conformance.png') });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
