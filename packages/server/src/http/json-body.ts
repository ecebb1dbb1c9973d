import { InvalidInputError } from '@vexil/core';
import type { FastifyInstance } from 'fastify';

/**
 * Whether the JSON text nests objects and arrays deeper than `maxDepth`. Written by hand
 * because no JSON parser in reach takes a depth limit: one pass over the text, before it
 * is parsed, so a body nested 10,000 deep never becomes a structure that recursive code
 * (schema validation, value checks) would overflow the stack on. Brackets inside strings
 * do not count; the text's validity is left to the parser.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  // Each level needs an opening bracket: shorter texts cannot be too deep.
  if (text.length <= maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/**
 * Replaces Fastify's JSON body parser by the same parser (secure-json-parse, prototype
 * poisoning refused, the same errors for empty and malformed bodies) behind a depth
 * check: a body nested deeper than `maxDepth` answers 400 naming the limit.
 */
export function limitJsonDepth(app: FastifyInstance, maxDepth: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (nestsDeeperThan(text, maxDepth)) {
      done(
        new InvalidInputError(
          `the request body nests objects and arrays more than ${maxDepth} deep, the most the service accepts (VEXIL_JSON_MAX_DEPTH): send a flatter body`,
          { field: 'body' },
        ),
        undefined,
      );
      return;
    }
    parse(request, text, done);
  });
}
