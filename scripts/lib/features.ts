/**
 * The feature files, parsed by Cucumber's own Gherkin parser and compiled to
 * pickles (one per scenario, one per row of an outline) exactly as
 * cucumber-js sees them, with the tags each pickle inherits from its
 * feature, rule, scenario and examples.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { type GherkinDocument, IdGenerator, type Pickle, type Scenario } from '@cucumber/messages';

/** One scenario as run: an ordinary scenario, or one row of an outline. */
export interface ScenarioRun {
  /** Path from the project root, with forward slashes: features/fork/cow.feature. */
  readonly uri: string;
  readonly feature: string;
  readonly rule: string | null;
  /** The pickle's name (an outline's name with the row's values put in). */
  readonly name: string;
  /** The line of the scenario, or of the outline's row. */
  readonly line: number;
  readonly tags: readonly string[];
  /** The outline's parameters for this row, empty for an ordinary scenario. */
  readonly parameters: readonly { name: string; value: string }[];
  readonly pickle: Pickle;
  /** The scenario's description: the free text under its title. */
  readonly description: string;
}

export interface Features {
  readonly documents: readonly GherkinDocument[];
  readonly scenarios: readonly ScenarioRun[];
}

/** Feature files under dir, sorted, as paths from the project root. */
export function featureFiles(dir = 'features'): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.feature'))
    .map((f) => join(dir, f).split('\\').join('/'))
    .sort();
}

export function parseFeature(
  uri: string,
  text: string,
): { document: GherkinDocument; scenarios: ScenarioRun[] } {
  const newId = IdGenerator.incrementing();
  const parser = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher());
  const document = { ...parser.parse(text), uri } as GherkinDocument;
  const pickles = compile(document, uri, newId);

  // Where each scenario and example row is, and the rule it sits under.
  const scenarioOf = new Map<string, { scenario: Scenario; rule: string | null }>();
  const rowLine = new Map<string, number>();
  const visit = (scenario: Scenario, rule: string | null) => {
    scenarioOf.set(scenario.id, { scenario, rule });
    for (const examples of scenario.examples)
      for (const row of examples.tableBody) rowLine.set(row.id, row.location.line);
  };
  for (const child of document.feature?.children ?? []) {
    if (child.scenario) visit(child.scenario, null);
    for (const c of child.rule?.children ?? []) if (c.scenario) visit(c.scenario, child.rule?.name ?? null);
  }

  const scenarios = pickles.map((pickle): ScenarioRun => {
    const [scenarioId, rowId] = pickle.astNodeIds;
    const found = scenarioOf.get(scenarioId);
    if (!found) throw new Error(`${uri}: pickle "${pickle.name}" has no scenario`);
    const { scenario, rule } = found;
    const parameters: { name: string; value: string }[] = [];
    if (rowId) {
      for (const examples of scenario.examples) {
        const row = examples.tableBody.find((r) => r.id === rowId);
        if (!row) continue;
        row.cells.forEach((cell, i) => {
          parameters.push({ name: examples.tableHeader?.cells[i]?.value ?? `arg${i}`, value: cell.value });
        });
      }
    }
    return {
      uri,
      feature: document.feature?.name ?? '',
      rule,
      name: pickle.name,
      line: rowId ? (rowLine.get(rowId) ?? scenario.location.line) : scenario.location.line,
      tags: pickle.tags.map((t) => t.name),
      parameters,
      pickle,
      description: scenario.description.trim(),
    };
  });
  return { document, scenarios };
}

/** Parse every feature file; a file Gherkin cannot parse throws, naming it. */
export function loadFeatures(dir = 'features'): Features {
  const documents: GherkinDocument[] = [];
  const scenarios: ScenarioRun[] = [];
  for (const uri of featureFiles(dir)) {
    let parsed: ReturnType<typeof parseFeature>;
    try {
      parsed = parseFeature(uri, readFileSync(uri, 'utf8'));
    } catch (e) {
      throw new Error(`${uri}: ${(e as Error).message}`);
    }
    documents.push(parsed.document);
    scenarios.push(...parsed.scenarios);
  }
  return { documents, scenarios };
}

/** The values of the tags `@<prefix>:<value>` among tags. */
export function tagValues(tags: readonly string[], prefix: string): string[] {
  return tags.filter((t) => t.startsWith(`@${prefix}:`)).map((t) => t.slice(prefix.length + 2));
}
