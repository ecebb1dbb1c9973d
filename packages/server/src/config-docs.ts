import { type ConfigVariable, SERVICE_VARIABLES } from './config-variables.js';

const variables: readonly ConfigVariable<unknown>[] = Object.values(SERVICE_VARIABLES);

/** The lines around README's Configuration table; `npm run docs:config` rewrites what is between them. */
export const README_TABLE_START =
  '<!-- configuration table: made by `npm run docs:config` from packages/server/src/config-variables.ts; edit it there -->';
export const README_TABLE_END = '<!-- end of configuration table -->';

/** README's Configuration table: `| variable | default | meaning |`, a row per variable. */
export function configMarkdownTable(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = variables.map(
    (v) => `| \`${v.name}\` | ${v.default === undefined ? '—' : `\`${cell(v.default)}\``} | ${cell(v.meaning)} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/**
 * The variables for `vexil serve --help`: `NAME=default` (or `NAME (no default)`), then
 * the meaning below it, wrapped; a three-column table would leave the meaning no room
 * beside the longest names and defaults.
 */
export function configHelpText(width = 88): string {
  const indent = '      ';
  return variables
    .map((v) => {
      const head = `  ${v.name}${v.default === undefined ? ' (no default)' : `=${v.default}`}`;
      return [head, ...wrap(plainText(v.meaning), width - indent.length).map((line) => indent + line)].join('\n');
    })
    .join('\n');
}

/** Markdown as a terminal shows it: `[Storage](#storage)` → Storage, no backticks. */
export function plainText(markdown: string): string {
  return markdown.replaceAll(/\[([^\]]*)\]\([^)]*\)/g, '$1').replaceAll('`', '');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** `readme` with the text between the table's marker lines replaced by {@link configMarkdownTable}. */
export function withConfigTable(readme: string): string {
  const start = readme.indexOf(README_TABLE_START);
  const end = readme.indexOf(README_TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`README has no configuration table between the lines\n${README_TABLE_START}\n${README_TABLE_END}`);
  }
  const before = readme.slice(0, start + README_TABLE_START.length);
  return `${before}\n${configMarkdownTable()}\n${readme.slice(end)}`;
}
