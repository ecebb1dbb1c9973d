import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every relative link in the repository's Markdown must lead somewhere: to a file or
 * folder that exists and, with a `#fragment` into a Markdown file, to one of its
 * headings. The parsing is deliberately small (inline links and reference
 * definitions, outside code) instead of a Markdown parser as a dependency: the docs
 * use nothing else.
 */

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.vexil-tmp', 'coverage']);

function markdownFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) found.push(...markdownFiles(join(dir, entry.name)));
    } else if (entry.name.endsWith('.md')) {
      found.push(join(dir, entry.name));
    }
  }
  return found;
}

interface Line {
  number: number;
  text: string;
}

/** The lines outside fenced code blocks, with inline code spans blanked out. */
function proseLines(text: string): Line[] {
  const lines: Line[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((line, index) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) lines.push({ number: index + 1, text: line.replace(/`[^`]*`/g, '``') });
  });
  return lines;
}

/** GitHub's anchor for a heading: its text, lower-cased, without punctuation, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown text's headings; repeated headings get `-1`, `-2`, … as on GitHub. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of text.split('\n')) {
    if (/^\s{0,3}(`{3,}|~{3,})/.test(line)) fence = !fence;
    const heading = fence ? undefined : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/;
const HAS_SCHEME = /^([a-z][a-z0-9+.-]*:|\/\/)/i;

/**
 * The links of one Markdown file (`file`, absolute, inside `repoRoot`) that lead
 * nowhere, as `path:line: target: reason`.
 */
function brokenLinks(file: string, text: string, repoRoot: string = root): string[] {
  const problems: string[] = [];
  const where = relative(repoRoot, file);
  for (const { number, text: line } of proseLines(text)) {
    const targets = [...line.matchAll(INLINE_LINK)].map((match) => match[1] ?? '');
    const definition = REFERENCE_DEFINITION.exec(line)?.[1];
    if (definition !== undefined) targets.push(definition);
    for (const target of targets) {
      if (target === '' || HAS_SCHEME.test(target)) continue;
      const hashAt = target.indexOf('#');
      const pathPart = decodeURIComponent(hashAt === -1 ? target : target.slice(0, hashAt));
      const fragment = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
      const resolved =
        pathPart === '' ? file : pathPart.startsWith('/') ? join(repoRoot, pathPart) : resolve(dirname(file), pathPart);
      if (resolved !== repoRoot && !resolved.startsWith(repoRoot + sep)) {
        problems.push(`${where}:${number}: ${target}: points outside the repository`);
        continue;
      }
      if (pathPart !== '' && !existsSync(resolved)) {
        problems.push(`${where}:${number}: ${target}: ${relative(repoRoot, resolved)} does not exist`);
        continue;
      }
      if (fragment === undefined || fragment === '' || !resolved.endsWith('.md')) continue;
      if (resolved !== file && statSync(resolved).isDirectory()) continue;
      const anchors = anchorsOf(resolved === file ? text : readFileSync(resolved, 'utf8'));
      if (!anchors.has(fragment)) {
        problems.push(`${where}:${number}: ${target}: no heading with the anchor #${fragment}`);
      }
    }
  }
  return problems;
}

describe('links in the Markdown docs', () => {
  const files = markdownFiles(root);

  it('finds the docs to check', () => {
    const names = files.map((file) => relative(root, file));
    for (const doc of ['README.md', 'docs/design.md', 'bench/README.md', 'packages/core/README.md']) {
      expect(names).toContain(doc);
    }
  });

  it('every relative link leads to a file that exists, and every #anchor to a heading', () => {
    const problems = files.flatMap((file) => brokenLinks(file, readFileSync(file, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('reports a missing file, a missing heading and a link out of the repository', () => {
    const file = join(root, 'docs', 'example.md');
    const text = [
      '# Example',
      '',
      'See [the design](design.md), [the README](../README.md#storage) and [above](#example).',
      'Broken: [gone](no-such-file.md), [no heading](design.md#no-such-heading), [out](../../elsewhere/DESIGN.md).',
      '```',
      '[in code](not-checked.md)',
      '```',
      'Neither is `[inline code](not-checked.md)` nor [a site](https://example.com/x.md).',
    ].join('\n');
    expect(brokenLinks(file, text)).toEqual([
      'docs/example.md:4: no-such-file.md: docs/no-such-file.md does not exist',
      'docs/example.md:4: design.md#no-such-heading: no heading with the anchor #no-such-heading',
      'docs/example.md:4: ../../elsewhere/DESIGN.md: points outside the repository',
    ]);
  });

  it('makes anchors as GitHub does', () => {
    const anchors = anchorsOf('## HTTP load: `npm run bench:http`\n## The service (`vexil serve`)\n## Notes\n## Notes');
    expect([...anchors]).toEqual(['http-load-npm-run-benchhttp', 'the-service-vexil-serve', 'notes', 'notes-1']);
  });
});
