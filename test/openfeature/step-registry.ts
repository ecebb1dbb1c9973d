/**
 * Step definitions matched by regular expression, as cucumber-js matches them: a step
 * runs the one definition whose pattern matches its whole text; none or several is an
 * error naming the step, so a new or changed feature file fails loudly.
 */
export type StepTable = string[][] | undefined;
export type StepBody<W> = (world: W, args: string[], table: StepTable) => void | Promise<void>;

export class StepRegistry<W> {
  private readonly definitions: { pattern: RegExp; body: StepBody<W> }[] = [];

  define(pattern: RegExp, body: StepBody<W>): this {
    this.definitions.push({ pattern: new RegExp(`^${pattern.source}$`), body });
    return this;
  }

  /** How many definitions match `text` (exactly one for a step that can run). */
  matching(text: string): number {
    return this.matches(text).length;
  }

  async run(world: W, text: string, table: StepTable): Promise<void> {
    const matches = this.matches(text);
    if (matches.length === 0) throw new Error(`no step definition for: ${text}`);
    if (matches.length > 1) throw new Error(`${matches.length} step definitions match: ${text}`);
    await matches[0]!.body(world, matches[0]!.args, table);
  }

  private matches(text: string): { body: StepBody<W>; args: string[] }[] {
    const matches: { body: StepBody<W>; args: string[] }[] = [];
    for (const { pattern, body } of this.definitions) {
      const match = pattern.exec(text);
      if (match) matches.push({ body, args: match.slice(1) });
    }
    return matches;
  }
}
