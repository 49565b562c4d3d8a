/**
 * Debated designs side by side (the site's designs.html): for each design
 * axis (a MachineConfig choice a Given-step selects: the devmap refcount
 * design, the device-private THP split, the coherent long-term pin, the
 * fork-shared THP migration, the device-private PMD write check), the
 * scenarios of every feature that runs a non-default choice of it, each
 * design's verdict in its own column ("holds", or "breaks: <rule>" with the
 * step that claims it and the picture there), and the thread the claims come
 * from. Read from the run's designs.ndjson (support/hooks.ts) and the
 * feature files.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ScenarioRun } from './features';
import { pickleKey } from './run';

export const DESIGNS_FILE = 'reports/designs.ndjson';

/** One scenario's line of designs.ndjson. */
export interface DesignRecord {
  readonly uri: string;
  readonly line: number;
  readonly values: string[];
  readonly name: string;
  readonly engine: string;
  readonly designs: Record<string, string | boolean | number>;
  readonly breaks: { rule: string; step: string; detail: string; svg: string | null } | null;
}

/** What each axis is called, and what each of its choices means. */
export const AXES: Record<string, { title: string; values: Record<string, string> }> = {
  devmap_refcount: {
    title: 'FS-DAX page references: the old devmap design vs the fixed one',
    values: {
      old: 'old: special devmap PTEs hold no reference (the October 2021 thread)',
      fixed: 'fixed: PTEs hold references, idle pages at 0 (≈v6.15)',
    },
  },
  device_private_split: {
    title: 'Splitting a device-private THP: the v2 patch vs the merged design',
    values: {
      v2: 'v2 patch: freeze and split while still mapped',
      merged: 'merged: unmap into migration entries, freeze, split, remap',
    },
  },
  coherent_longterm_pin: {
    title: 'Long-term pins of device-coherent memory: the v6 series vs the merged design',
    values: { fail: 'v6 series: the pin fails', migrate: 'merged (v6.0): migrate to system RAM, then pin' },
  },
  shared_thp_migration: {
    title: 'Device migration of a THP another process maps: 7.x vs kernel/patches/0001',
    values: {
      compound: '7.x: collected as one compound entry',
      'split-shared': 'kernel/patches/0001: split first',
    },
  },
  device_private_pmd_write_check: {
    title: "remove_migration_pmd's DEBUG_VM check: of the swap PMD (7.x) vs of the present PMD",
    values: {
      'swap-pmd': '7.x: reads the swap PMD',
      'present-pmd': 'before the conversion: the present PMD',
    },
  },
};

/** Where word last stands in text as a whole word, or -1. */
function lastWord(text: string, word: string): number {
  for (let i = text.lastIndexOf(word); i >= 0; i = text.lastIndexOf(word, i - 1)) {
    const before = text[i - 1] ?? ' ';
    const after = text[i + word.length] ?? ' ';
    if (!/\w/.test(before) && !/\w/.test(after)) return i;
    if (i === 0) break;
  }
  return -1;
}

export function readDesigns(file = DESIGNS_FILE): DesignRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as DesignRecord);
}

/** A scenario in a comparison, with its design and verdict. */
export interface Compared {
  readonly scenario: ScenarioRun;
  readonly value: string;
  readonly record: DesignRecord;
}

/** One row of a comparison: an outline's row (its values but the design's), or a scenario of its own. */
export interface ComparisonRow {
  readonly title: string;
  readonly rule: string | null;
  readonly uri: string;
  readonly cells: Map<string, Compared[]>;
}

export interface Axis {
  readonly key: string;
  readonly title: string;
  readonly values: string[];
  readonly rows: ComparisonRow[];
  /** Features whose scenarios the axis compares. */
  readonly uris: string[];
}

/**
 * The axes and their comparisons: a feature file takes part in an axis when
 * one of its scenarios ran a non-default choice of it; the harness's own
 * features never do.
 */
export function compareDesigns(
  scenarios: readonly ScenarioRun[],
  records: readonly DesignRecord[],
  defaults: Record<string, unknown>,
): Axis[] {
  const byKey = new Map(records.map((r) => [pickleKey(r.uri, r.line), r]));
  const axes: Axis[] = [];
  for (const [key, about] of Object.entries(AXES)) {
    const uris = [
      ...new Set(
        records
          .filter((r) => !r.uri.startsWith('features/harness/') && r.designs[key] !== defaults[key])
          .map((r) => r.uri),
      ),
    ].sort();
    if (!uris.length) continue;
    const rows = new Map<string, ComparisonRow>();
    for (const s of scenarios.filter((x) => uris.includes(x.uri))) {
      const record = byKey.get(pickleKey(s.uri, s.line));
      if (!record) continue;
      const value = String(record.designs[key]);
      /* An outline's rows that differ only in the design share a row; the design's own column names it. */
      const designParam = s.parameters.find(
        (p) => Object.keys(about.values).includes(p.value) || p.name === 'design',
      );
      const rest = s.parameters.filter((p) => p !== designParam);
      const outline = s.pickle.astNodeIds[0];
      const id = designParam ? `${s.uri}#${outline}#${JSON.stringify(rest)}` : `${s.uri}:${s.line}`;
      /* The outline's title: the design's value, as a whole word, put back as its placeholder (the last one). */
      const at = designParam ? lastWord(s.name, designParam.value) : -1;
      const title =
        designParam && at >= 0
          ? `${s.name.slice(0, at)}<${designParam.name}>${s.name.slice(at + designParam.value.length)}`
          : s.name;
      const row = rows.get(id) ?? { title, rule: s.rule, uri: s.uri, cells: new Map<string, Compared[]>() };
      row.cells.set(value, [...(row.cells.get(value) ?? []), { scenario: s, value, record }]);
      rows.set(id, row);
    }
    const values = [
      ...new Set([...Object.keys(about.values), ...[...rows.values()].flatMap((r) => [...r.cells.keys()])]),
    ];
    axes.push({ key, title: about.title, values, rows: [...rows.values()], uris });
  }
  return axes;
}
