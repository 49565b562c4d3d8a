/**
 * The claims registry (claims/claims.yaml): load it, and check it against
 * shared/reference/seed-claims.md and the seed messages when shared/ is at
 * hand, and against the @claim tags of the scenarios.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ScenarioRun } from './features';
import { tagValues } from './features';

export const STATUSES = ['accepted', 'disputed', 'superseded', 'violated'] as const;

/**
 * A finding: a rule mmspec states from the kernel's own design, which the
 * real kernel breaks (status violated). Its id is M<nnn>-<n>, its source a
 * report in this repository (docs/upstream/), not a seed message.
 */
export const isFinding = (c: Pick<Claim, 'id'>): boolean => /^M\d{3}-\d+$/.test(c.id ?? '');
export type ClaimStatus = (typeof STATUSES)[number];

export interface Source {
  file: string;
  date: string | null;
  author: string;
  subject: string | null;
  thread?: string;
  message_id?: string;
}

export interface Claim {
  id: string;
  statement: string;
  quote: string;
  source: Source;
  status: ClaimStatus;
  note?: string;
  /** A violated claim: the kernel versions that break it, and how that was seen. */
  kernel?: string;
}

export const REGISTRY = 'claims/claims.yaml';

export function loadClaims(file = REGISTRY): Claim[] {
  const doc = parse(readFileSync(file, 'utf8')) as { claims?: Claim[] };
  if (!Array.isArray(doc?.claims)) throw new Error(`${file} has no list "claims"`);
  return doc.claims;
}

/**
 * The shared/ folder that sits beside the project in every checkout (CI
 * clones the project with shared/ beside it), or MMSPEC_SHARED; null if
 * there is none.
 */
export function sharedDir(): string | null {
  const candidates = [process.env.MMSPEC_SHARED, resolve('..', 'shared')].filter(Boolean) as string[];
  return candidates.find((d) => existsSync(join(d, 'reference', 'seed-claims.md'))) ?? null;
}

/** The claim ids of seed-claims.md, in its order. */
export function seedClaimIds(shared: string): string[] {
  const text = readFileSync(join(shared, 'reference', 'seed-claims.md'), 'utf8');
  return [...text.matchAll(/^\| (S\d{3}-\d+) \|/gm)].map((m) => m[1]);
}

/** A message's text with quoting ("> ") and line breaks taken out, for finding a quote in it. */
export function plainText(text: string): string {
  return text
    .replace(/(^|\s)(>\s*)+/gm, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The Date, From (name only) and Subject headers of a message file, with folded lines joined; null where absent. */
export function messageHeaders(text: string): {
  date: string | null;
  author: string | null;
  subject: string | null;
} {
  const header = (name: string): string | null => {
    const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\n[ \\t]+\\S.*)*)`, 'm').exec(text);
    return m ? m[1].replace(/\s*\n\s+/g, ' ').trim() : null;
  };
  const from = header('From');
  return {
    date: header('Date'),
    author: from ? from.replace(/\s*<.*$/, '').trim() : null,
    subject: header('Subject'),
  };
}

/** Problems with the registry itself: fields, ids, statuses, and (with shared/) its agreement with the seeds. */
export function registryProblems(claims: Claim[], shared: string | null): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const c of claims) {
    const where = `claim ${c.id ?? '(no id)'}`;
    if (!/^S\d{3}-\d+$/.test(c.id ?? '') && !isFinding(c))
      problems.push(`${where}: the id must look like S000-1 (a seed's claim) or M001-1 (a finding)`);
    if ((c.status === 'violated') !== isFinding(c))
      problems.push(`${where}: status violated is for findings (M001-1), and a finding's status is violated`);
    if (c.status === 'violated' && !c.kernel?.trim())
      problems.push(`${where}: a violated claim names the kernel versions that break it (kernel:)`);
    if (isFinding(c) && c.source?.file) {
      if (!existsSync(c.source.file))
        problems.push(`${where}: its report ${c.source.file} is not in the repository`);
      else if (
        typeof c.quote === 'string' &&
        !plainText(readFileSync(c.source.file, 'utf8')).includes(plainText(c.quote))
      )
        problems.push(`${where}: the quote "${c.quote}" is not in ${c.source.file}`);
    }
    if (seen.has(c.id)) problems.push(`${where}: listed twice`);
    seen.add(c.id);
    for (const field of ['statement', 'quote'] as const)
      if (typeof c[field] !== 'string' || !c[field].trim()) problems.push(`${where}: no ${field}`);
    if (!STATUSES.includes(c.status))
      problems.push(`${where}: status "${c.status}" is not one of ${STATUSES.join(', ')}`);
    if (!c.source?.file || !c.source.author) problems.push(`${where}: its source needs a file and an author`);
  }
  if (!shared) return problems;

  const ids = seedClaimIds(shared);
  for (const id of ids)
    if (!seen.has(id)) problems.push(`claim ${id} of seed-claims.md is missing from ${REGISTRY}`);
  const seeds = claims.filter((c) => !isFinding(c));
  for (const c of seeds)
    if (!ids.includes(c.id)) problems.push(`claim ${c.id} is in ${REGISTRY} but not in seed-claims.md`);

  const texts = new Map<string, string>();
  for (const c of seeds) {
    if (!c.source?.file) continue;
    const file = join(shared, 'seeds', c.source.file);
    if (!existsSync(file)) {
      problems.push(`claim ${c.id}: its source message ${c.source.file} is not in shared/seeds/`);
      continue;
    }
    if (!texts.has(file)) texts.set(file, readFileSync(file, 'utf8'));
    const text = texts.get(file) as string;
    if (typeof c.quote === 'string' && !plainText(text).includes(plainText(c.quote)))
      problems.push(`claim ${c.id}: the quote "${c.quote}" is not in ${c.source.file}`);
    const h = messageHeaders(text);
    if (h.date !== c.source.date)
      problems.push(`claim ${c.id}: date "${c.source.date}", but the message says "${h.date}"`);
    if (h.subject !== c.source.subject)
      problems.push(`claim ${c.id}: subject "${c.source.subject}", but the message says "${h.subject}"`);
    if (h.author !== null && h.author !== c.source.author)
      problems.push(`claim ${c.id}: author "${c.source.author}", but the message is from "${h.author}"`);
    if (h.author === null && !plainText(text).includes(c.source.author.split(' ')[0]))
      problems.push(`claim ${c.id}: the message has no From header and does not name "${c.source.author}"`);
  }
  return problems;
}

/** The scenarios that check each claim, by claim id. */
export function scenariosByClaim(scenarios: readonly ScenarioRun[]): Map<string, ScenarioRun[]> {
  const by = new Map<string, ScenarioRun[]>();
  for (const s of scenarios)
    for (const id of tagValues(s.tags, 'claim')) {
      const list = by.get(id) ?? [];
      list.push(s);
      by.set(id, list);
    }
  return by;
}

/** Claims no scenario checks, and @claim tags that name no claim. */
export function coverageProblems(claims: Claim[], scenarios: readonly ScenarioRun[]): string[] {
  const by = scenariosByClaim(scenarios);
  const known = new Set(claims.map((c) => c.id));
  const problems: string[] = [];
  const uncovered = claims.filter((c) => !by.has(c.id));
  if (uncovered.length)
    problems.push(
      `${uncovered.length} claim(s) have no scenario (tag a Rule or Scenario with @claim:<id>):`,
      ...uncovered.map((c) => `  ${c.id}  ${c.statement}`),
    );
  for (const [id, list] of by)
    if (!known.has(id))
      problems.push(
        `@claim:${id} names no claim of ${REGISTRY}, in: ${[...new Set(list.map((s) => `${s.uri}:${s.line}`))].join(', ')}`,
      );
  return problems;
}
