import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AstBuilder, compile, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator, type Pickle } from '@cucumber/messages';

/** One scenario as cucumber runs it: background steps first, an outline's row filled in. */
export interface Scenario {
  feature: string;
  file: string;
  /** The scenario's name, with an outline's example row: `Resolve values [boolean-flag, Boolean, false, true]`. */
  name: string;
  tags: string[];
  steps: { text: string; table: string[][] | undefined }[];
}

/** Parses the feature files with the official gherkin parser and compiles them to pickles. */
export function loadScenarios(dir: string, files: readonly string[]): Scenario[] {
  const newId = IdGenerator.incrementing();
  const scenarios: Scenario[] = [];
  for (const file of files) {
    const parser = new Parser(new AstBuilder(newId), new GherkinClassicTokenMatcher());
    const document = parser.parse(readFileSync(join(dir, file), 'utf8'));
    const rows = new Map<string, string[]>();
    for (const child of document.feature?.children ?? []) {
      for (const examples of child.scenario?.examples ?? []) {
        for (const row of examples.tableBody)
          rows.set(
            row.id,
            row.cells.map((cell) => cell.value),
          );
      }
    }
    for (const pickle of compile(document, file, newId) as Pickle[]) {
      const row = pickle.astNodeIds.length > 1 ? rows.get(pickle.astNodeIds[1]!) : undefined;
      scenarios.push({
        feature: document.feature?.name ?? file,
        file,
        name: row ? `${pickle.name} [${row.join(', ')}]` : pickle.name,
        tags: pickle.tags.map((tag) => tag.name),
        steps: pickle.steps.map((step) => ({
          text: step.text,
          table: step.argument?.dataTable?.rows.map((r) => r.cells.map((cell) => cell.value)),
        })),
      });
    }
  }
  return scenarios;
}
