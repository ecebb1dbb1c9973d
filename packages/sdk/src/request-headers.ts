/**
 * The headers a client sends with every request: the `headers` option, with the `token`
 * option as `Authorization: Bearer …` (an `authorization` given in `headers` wins).
 * Reports always need a read token for the project; snapshots and streams need one where
 * the project's evaluation is not public.
 */
export function requestHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  token: string | undefined,
): Readonly<Record<string, string>> {
  if (token === undefined || token === '') return headers ?? {};
  const given = Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'authorization');
  return given ? (headers ?? {}) : { authorization: `Bearer ${token}`, ...headers };
}
