import { describe, expect, it } from 'vitest';
import { compareSemver, parseSemver, type SemanticVersion } from '../src/index.js';

function v(text: string): SemanticVersion {
  const parsed = parseSemver(text);
  if (parsed === undefined) throw new Error(`${text} should parse`);
  return parsed;
}

describe('parseSemver', () => {
  it.each([
    '0.0.0',
    '1.2.3',
    'v1.2.3',
    'V1.2.3',
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-0.3.7',
    '1.0.0-x.7.z.92',
    '1.0.0-x-y-z.--',
    '1.0.0+20130313144700',
    '1.0.0-beta+exp.sha.5114f85',
    '1.0.0+21AF26D3----117B344092BD',
    '1.0.0+001',
    '99999999999999999999.0.0',
  ])('accepts %s', (text) => {
    expect(parseSemver(text)).toBeDefined();
  });

  it.each([
    '',
    'v',
    '1',
    '1.2',
    '1.2.3.4',
    '01.2.3',
    '1.02.3',
    '1.2.03',
    '1.2.3-01',
    '1.2.3-',
    '1.2.3+',
    '1.2.3-alpha..1',
    '1.2.3+build..1',
    '1.2.3-al_pha',
    ' 1.2.3',
    '1.2.3 ',
    'vv1.2.3',
    '=1.2.3',
    '1.2.x',
    '-1.2.3',
    '1.2.3-é',
    `1.2.3-${'a'.repeat(300)}`,
  ])('refuses %j', (text) => {
    expect(parseSemver(text)).toBeUndefined();
  });

  it('keeps the pre-release identifiers and drops build metadata', () => {
    expect(parseSemver('v1.2.3-rc.1+build.7')).toEqual({ major: '1', minor: '2', patch: '3', prerelease: ['rc', '1'] });
    expect(parseSemver('1.2.3+build-with-dash')).toEqual({ major: '1', minor: '2', patch: '3', prerelease: [] });
  });
});

describe('compareSemver', () => {
  it("orders SemVer 2.0.0's own example chain", () => {
    const chain = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '2.0.0',
      '2.1.0',
      '2.1.1',
    ];
    for (let i = 0; i < chain.length; i++) {
      for (let j = 0; j < chain.length; j++) {
        const order = Math.sign(compareSemver(v(chain[i] as string), v(chain[j] as string)));
        expect(order, `${chain[i]} vs ${chain[j]}`).toBe(Math.sign(i - j));
      }
    }
  });

  it('compares numeric parts as numbers, also past 2^53', () => {
    expect(compareSemver(v('1.10.0'), v('1.9.0'))).toBeGreaterThan(0);
    expect(compareSemver(v('9007199254740993.0.0'), v('9007199254740992.0.0'))).toBeGreaterThan(0);
    expect(compareSemver(v('1.0.0-10'), v('1.0.0-9'))).toBeGreaterThan(0);
  });

  it('ignores build metadata and a leading v', () => {
    expect(compareSemver(v('1.0.0+a'), v('v1.0.0+b'))).toBe(0);
  });

  it('ranks numeric identifiers below alphanumeric ones and compares the rest in ASCII order', () => {
    expect(compareSemver(v('1.0.0-1'), v('1.0.0-a'))).toBeLessThan(0);
    expect(compareSemver(v('1.0.0-B'), v('1.0.0-a'))).toBeLessThan(0);
    expect(compareSemver(v('1.0.0-a-1'), v('1.0.0-a1'))).toBeLessThan(0);
  });
});
