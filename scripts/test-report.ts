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
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import sirv from 'sirv';
import { ensureChromium } from './ensure-browser';
import { loadClaims, seedClaimIds, sharedDir } from './lib/claims';
import { loadKernelTests, STATUS_ORDER } from './lib/conformance';
import { loadFeatures } from './lib/features';
import { readMutationRecord } from './lib/mutation';
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
    await designsPage(page, origin);
    await allureLabels();
    await pictures(page, origin);
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
    'designs.html',
  ])
    check(hrefs.includes(want), `the index links ${want}`);
  for (const href of hrefs) {
    const r = await page.request.get(`${origin}/${href}`);
    check(r.status() === 200, `${href} is there (HTTP ${r.status()})`);
  }
  // The mutation card: every file of mutation.json with its score, and the link when Stryker's report is in the site.
  const mutation = page.locator('#mutation');
  check((await mutation.count()) === 1, 'the index has a mutation-testing card');
  const text = (await mutation.count()) ? await mutation.innerText() : '';
  for (const [file, score] of Object.entries(readMutationRecord().files))
    check(
      text.includes(`${file}: ${score.scoreCovered} %`),
      `the mutation card shows ${file} at ${score.scoreCovered} %`,
    );
  if (existsSync(join(SITE, 'mutation', 'index.html')))
    check(hrefs.includes('mutation/index.html'), 'the index links mutation/index.html');
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
  /* The Rule's claim as the description, rendered as Markdown (bold "Rule:", not literal asterisks). */
  const body = await page.locator('.test-result').first().innerText();
  check(
    body.includes('Rule:') && !body.includes('**Rule:**'),
    "the scenario page shows its Rule's claim as its description, as Markdown",
  );
  await page.screenshot({ path: join(SHOTS, 'scenario-claim.png') });
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
  const tooWide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(tooWide <= 0, `the step catalogue fits the page width (${tooWide} px too wide)`);
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

/** designs.html: every axis a table, a design that breaks shows the rule, the step and the picture there. */
async function designsPage(page: Page, origin: string): Promise<void> {
  const response = await page.goto(`${origin}/designs.html`);
  check(response?.status() === 200, 'designs.html loads');
  const axes = await page.locator('section h2').allInnerTexts();
  check(axes.length >= 2, `designs.html compares ${axes.length} design pairs (${axes.join('; ')})`);
  const breaks = page.locator('.badge.breaks');
  const n = await breaks.count();
  check(n >= 3, `designs.html shows ${n} verdicts "breaks: <rule>"`);
  const texts = await breaks.allInnerTexts();
  check(
    texts.every((t) => /^breaks: \S/.test(t)),
    `each break names its rule (${texts.slice(0, 2).join('; ')})`,
  );
  const holds = await page.locator('.badge.passed', { hasText: 'holds' }).count();
  check(holds >= 3, `designs.html shows the designs that hold beside them (${holds})`);
  const imgs = page.locator('table.designs img.picture');
  const drawn = await imgs.evaluateAll(
    (is) => (is as HTMLImageElement[]).filter((i) => i.complete && i.naturalWidth > 100).length,
  );
  check(drawn > 0 && drawn === (await imgs.count()), `every break shows its picture (${drawn})`);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 0, `designs.html fits the page width (${wide} px too wide)`);
  await page.screenshot({ path: join(SHOTS, 'designs.png') });
}

interface AllureCase {
  name: string;
  status: string;
  statusMessage?: string;
  labels: { name: string; value: string }[];
  links: { url: string; type?: string }[];
  testStage?: { steps?: AllureStep[] };
}
interface AllureStep {
  name: string;
  attachments?: { source: string; type: string }[];
  steps?: AllureStep[];
}

function allureCases(): AllureCase[] {
  const dir = join(SITE, 'allure-report', 'data', 'test-cases');
  return readdirSync(dir).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as AllureCase);
}

/** In the generated Allure data: claims, epics, kernel links, and no design that breaks as a plain pass. */
async function allureLabels(): Promise<void> {
  const cases = allureCases();
  const label = (c: AllureCase, name: string) => c.labels.filter((l) => l.name === name).map((l) => l.value);
  const features = loadFeatures().scenarios;
  const tagged = features.filter((s) => s.tags.some((t) => t.startsWith('@claim:'))).length;
  const claimed = cases.filter((c) => label(c, 'story').some((v) => /^[SM]\d{3}-\d+$/.test(v))).length;
  check(
    claimed === tagged,
    `every scenario with a claim has it as its story in Allure (${claimed} of ${tagged})`,
  );
  const withStory = cases.filter((c) => label(c, 'story').length > 0).length;
  check(
    withStory === cases.length,
    `every scenario has a story: its claim, or its Rule (${withStory} of ${cases.length})`,
  );
  const kernelTagged = features.filter((s) => s.tags.some((t) => t.startsWith('@kernel:'))).length;
  const withKernel = cases.filter((c) => c.links.some((l) => l.type === 'kernel')).length;
  check(
    withKernel === kernelTagged,
    `every scenario with a @kernel tag links it (${withKernel} of ${kernelTagged})`,
  );
  const dax = features.filter((s) => s.uri.startsWith('features/dax/')).length;
  const daxEpic = cases.filter((c) => label(c, 'epic').includes('FS-DAX memory')).length;
  check(
    daxEpic >= dax && dax > 0,
    `the FS-DAX scenarios are in the FS-DAX epic (${daxEpic}, ${dax} in features/dax/)`,
  );
  const breaks = cases.filter((c) => label(c, 'verdict').includes('design breaks'));
  const plain = breaks.filter((c) => !(c.statusMessage ?? '').startsWith('design breaks: '));
  check(
    breaks.length > 0 && plain.length === 0,
    `no design that breaks is a plain pass in Allure (${breaks.length} marked${plain.length ? `; plain: ${plain.map((c) => c.name).join(', ')}` : ''})`,
  );
  const categories = JSON.parse(
    readFileSync(join(SITE, 'allure-report', 'data', 'categories.json'), 'utf8'),
  ) as { children: { name: string; children?: unknown[] }[] };
  const design = categories.children.find((c) => c.name === 'Design breaks (claimed)');
  check(
    (design?.children?.length ?? 0) > 0,
    `Allure's categories list the designs that break (${design?.children?.length ?? 0} rules)`,
  );
}

/** The first state picture of a scenario of each memory kind, from the Allure data. */
function picturesByKind(): Map<string, string> {
  const by = new Map<string, string>();
  /* allure-cucumberjs wraps each attachment in a step of its own, under the Gherkin step. */
  const visit = (kind: string, steps: AllureStep[] = [], parent = ''): void => {
    for (const s of steps) {
      if (by.has(kind)) return;
      const svg = s.attachments?.find((a) => a.type === 'image/svg+xml');
      if (svg && !s.name.startsWith('Given ') && !parent.startsWith('Given ')) by.set(kind, svg.source);
      visit(kind, s.steps, s.name);
    }
  };
  for (const c of allureCases()) {
    const kind = c.labels.find((l) => l.name === 'epic')?.value ?? '';
    if (kind && !by.has(kind) && !kind.startsWith('the harness')) visit(kind, c.testStage?.steps);
  }
  return by;
}

/**
 * The pictures at 100 % zoom in Chromium, one of each memory kind: no label
 * runs out of its box (each text's box inside its node's shape), nothing is
 * cut off by the picture's edge, and every node is connected (an edge ends
 * at it), but the plain-text note of rows left out.
 */
async function pictures(page: Page, origin: string): Promise<void> {
  const kinds = picturesByKind();
  check(kinds.size >= 4, `a picture of each memory kind (${[...kinds.keys()].join(', ')})`);
  for (const [kind, source] of kinds) {
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(`${origin}/allure-report/data/attachments/${source}`);
    const problems = await page.evaluate(() => {
      const out: string[] = [];
      const svg = document.querySelector('svg') as SVGSVGElement;
      /* Everything in screen pixels at 100 % zoom, as the reader sees it (Graphviz translates its graph group). */
      const inside = (a: DOMRect, b: DOMRect, slack = 1) =>
        a.x >= b.x - slack &&
        a.y >= b.y - slack &&
        a.right <= b.right + slack &&
        a.bottom <= b.bottom + slack;
      const boxOf = (e: Element) => e.getBoundingClientRect();
      const whole = boxOf(svg);
      for (const t of Array.from(svg.querySelectorAll('text')))
        if (!inside(boxOf(t), whole)) out.push(`"${t.textContent}" is cut off by the picture's edge`);
      const groups = Array.from(svg.querySelectorAll('g > g')) as SVGGElement[];
      const shapes: { g: SVGGElement; box: DOMRect; label: string }[] = [];
      const ends: DOMPoint[] = [];
      for (const g of groups) {
        const texts = Array.from(g.querySelectorAll(':scope > text'));
        const shape = g.querySelector(
          ':scope > polygon, :scope > path, :scope > ellipse',
        ) as SVGGraphicsElement | null;
        if (!texts.length) {
          // An edge: a path and its arrowhead.
          const path = g.querySelector(':scope > path') as SVGPathElement | null;
          if (path && path.getTotalLength() > 0) {
            const ctm = path.getScreenCTM() ?? new DOMMatrix();
            const at = (p: DOMPointInit) => new DOMPoint(p.x, p.y).matrixTransform(ctm);
            ends.push(at(path.getPointAtLength(0)), at(path.getPointAtLength(path.getTotalLength())));
            for (const pt of Array.from(
              (g.querySelector(':scope > polygon') as SVGPolygonElement | null)?.points ?? [],
            ))
              ends.push(at(pt));
          }
          continue;
        }
        const label = texts.map((t) => t.textContent).join(' ');
        if (!shape) {
          if (!/more rows in the text table/.test(label)) out.push(`"${label}" has no shape`);
          continue;
        }
        const box = boxOf(shape);
        for (const t of texts)
          if (!inside(boxOf(t as SVGGraphicsElement), box, 1.5))
            out.push(`"${t.textContent}" runs out of its box`);
        if (shape.getAttribute('fill') !== 'none') shapes.push({ g, box, label });
      }
      for (const s of shapes) {
        const near = ends.some(
          (p) =>
            p.x >= s.box.x - 4 && p.x <= s.box.right + 4 && p.y >= s.box.y - 4 && p.y <= s.box.bottom + 4,
        );
        if (!near) out.push(`"${s.label}" is not connected`);
      }
      return out;
    });
    check(
      problems.length === 0,
      `the ${kind} picture: labels fit, nothing clipped, every node connected${problems.length ? `: ${problems.slice(0, 4).join('; ')}` : ''}`,
    );
    await page.screenshot({ path: join(SHOTS, `picture-${kind.split(' ')[0]}.png`) });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
