/**
 * Whether an `If-None-Match` header matches `etag` (RFC 9110: `*`, or a list of
 * tags compared weakly, so `W/"v"` matches `"v"`). A bare version without quotes
 * matches too, for clients that send the version they hold as it is.
 */
export function matchesETag(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const bare = (tag: string) =>
    tag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
  const wanted = bare(etag);
  const tags = (Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch).split(',');
  return tags.some((tag) => tag.trim() === '*' || bare(tag) === wanted);
}
