// `npm run docs:config`: rewrites README's Configuration table from the declarations of
// `vexil serve`'s variables (packages/server/src/config-variables.ts), built first.
// packages/server/test/config-docs.test.ts fails while README and the declarations differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from '../packages/server/dist/config-docs.js';

const readme = new URL('../README.md', import.meta.url);
const before = readFileSync(readme, 'utf8');
const after = withConfigTable(before);
if (after === before) {
  console.log('README.md: the configuration table is up to date');
} else {
  writeFileSync(readme, after);
  console.log('README.md: configuration table rewritten');
}
