import { describe, expect, it } from 'vitest';
import { sessionIdFromQueryString, sessionIdFromUrl } from '../src/index.js';

describe('the sid query parameter, read as Starlette reads it for Merino', () => {
  it.each([
    ['/suggest?q=fire&sid=000', '000'],
    ['/suggest?sid=a&sid=000', '000'], // the last one wins
    ['/suggest?sid=000&q=x&sid=fff', 'fff'],
    ['/suggest?sid=', ''], // an empty value is a value
    ['/suggest?sid', ''], // so is a bare key
    ['/suggest?sid=&sid=000', '000'],
    ['/suggest?sid=000&sid=', ''],
    ['/suggest?q=fire', undefined], // absent is none
    ['/suggest', undefined],
    ['/suggest?', undefined],
    ['/suggest?sidx=1&xsid=2', undefined],
    ['/suggest?sid=a+b%20c', 'a b c'],
    ['/suggest?s%69d=000', '000'], // an encoded key is the same key
    ['/suggest?sid=%C3%BC%E6%97%A5', 'ü日'],
    ['/suggest?sid=100%', '100%'], // a malformed escape stays as written
    ['/suggest?sid=%zz%4', '%zz%4'],
    ['/suggest?sid=%FF', '\uFFFD'], // bytes that are not UTF-8 become U+FFFD, as Python's errors='replace'
    ['/suggest?sid=x=y', 'x=y'],
    ['/suggest?sid=000#sid=fff', '000'],
    ['/suggest?&&sid=000&&', '000'],
  ])('%s → %s', (url, want) => {
    expect(sessionIdFromUrl(url)).toBe(want);
  });

  it('reads another parameter name when asked', () => {
    expect(sessionIdFromQueryString('session=7&sid=1', 'session')).toBe('7');
    expect(sessionIdFromUrl(undefined)).toBeUndefined();
  });
});
