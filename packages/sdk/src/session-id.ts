/**
 * The session id of a request, read from the raw query string the way Merino's
 * middleware gets it from Starlette (`request.query_params.get("sid")`): the last
 * `sid` wins, `?sid=` and a bare `?sid` are the empty string (a session id like any
 * other), no `sid` at all is `undefined`. `+` is a space and %-escapes are UTF-8, with
 * malformed escapes kept as written — whatever the web framework's own parser does.
 */
export function sessionIdFromUrl(url: string | undefined, param = 'sid'): string | undefined {
  if (url === undefined) return undefined;
  const start = url.indexOf('?');
  if (start < 0) return undefined;
  const hash = url.indexOf('#', start);
  return sessionIdFromQueryString(url.slice(start + 1, hash < 0 ? url.length : hash), param);
}

/** As `sessionIdFromUrl`, for a query string without its `?`. */
export function sessionIdFromQueryString(query: string, param = 'sid'): string | undefined {
  let found: string | undefined;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key !== param && decodeFormComponent(key) !== param) continue;
    found = eq < 0 ? '' : decodeFormComponent(pair.slice(eq + 1));
  }
  return found;
}

const decoder = new TextDecoder('utf-8');

/** Python's `unquote_plus(s, errors='replace')`: `+` → space, %XX runs as UTF-8 (U+FFFD for bad bytes). */
function decodeFormComponent(text: string): string {
  const plain = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!plain.includes('%')) return plain;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) {
      out += decoder.decode(new Uint8Array(bytes));
      bytes = [];
    }
  };
  for (let i = 0; i < plain.length; i++) {
    const code = plain.charCodeAt(i);
    if (code === 0x25 && i + 2 < plain.length && isHex(plain.charCodeAt(i + 1)) && isHex(plain.charCodeAt(i + 2))) {
      bytes.push(Number.parseInt(plain.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (code < 0x80) {
      bytes.push(code);
    } else {
      // Non-ASCII text is kept as it is, as Python's unquote does.
      flush();
      out += plain[i];
    }
  }
  flush();
  return out;
}

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}
