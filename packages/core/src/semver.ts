/**
 * Semantic versions (SemVer 2.0.0) for the `semver_*` operators. Written by hand
 * because `@vexil/core` has no runtime dependencies (it runs in browsers and SDKs),
 * and because rule evaluation needs exactly SemVer's §11 precedence with no coercion
 * or ranges: the popular `semver` package loosens versions and carries far more than
 * a comparison. Numeric parts are kept as digit strings, so versions with parts past
 * 2^53 still compare exactly.
 */
export interface SemanticVersion {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  /** Pre-release identifiers; empty for a release. Build metadata is dropped: it has no precedence. */
  readonly prerelease: readonly string[];
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

/** A numeric identifier: digits without a leading zero (`0` itself is fine). */
function isNumericIdentifier(text: string): boolean {
  return isDigits(text) && (text.length === 1 || text.charCodeAt(0) !== DIGIT_0);
}

/** Letters, digits and hyphens, at least one. */
function isIdentifierText(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= DIGIT_0 && c <= DIGIT_9) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45; /* - */
    if (!ok) return false;
  }
  return true;
}

/** Longer than any version a rule needs; bounds the work an attribute can cause. */
export const MAX_SEMVER_LENGTH = 256;

/**
 * Parses `MAJOR.MINOR.PATCH[-prerelease][+build]`, with an optional leading `v` or `V`;
 * undefined when `text` is not a semantic version.
 */
export function parseSemver(text: string): SemanticVersion | undefined {
  if (text.length === 0 || text.length > MAX_SEMVER_LENGTH) return undefined;
  let start = 0;
  const first = text.charCodeAt(0);
  if (first === 118 /* v */ || first === 86 /* V */) start = 1;
  let end = text.length;
  const plus = text.indexOf('+', start);
  if (plus !== -1) {
    const build = text.slice(plus + 1).split('.');
    if (!build.every(isIdentifierText)) return undefined;
    end = plus;
  }
  let prerelease: string[] = [];
  const dash = text.indexOf('-', start);
  let coreEnd = end;
  if (dash !== -1 && dash < end) {
    prerelease = text.slice(dash + 1, end).split('.');
    for (const id of prerelease) {
      if (!isIdentifierText(id)) return undefined;
      if (isDigits(id) && !isNumericIdentifier(id)) return undefined;
    }
    coreEnd = dash;
  }
  const parts = text.slice(start, coreEnd).split('.');
  if (parts.length !== 3) return undefined;
  const [major, minor, patch] = parts as [string, string, string];
  if (!isNumericIdentifier(major) || !isNumericIdentifier(minor) || !isNumericIdentifier(patch)) return undefined;
  return { major, minor, patch, prerelease };
}

/** Compares two numeric identifiers without leading zeros as the numbers they are. */
function compareNumeric(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer §11 precedence: negative when `a` is lower, 0 when equal, positive when higher. */
export function compareSemver(a: SemanticVersion, b: SemanticVersion): number {
  const core = compareNumeric(a.major, b.major) || compareNumeric(a.minor, b.minor) || compareNumeric(a.patch, b.patch);
  if (core !== 0) return core;
  const pa = a.prerelease;
  const pb = b.prerelease;
  // A pre-release is lower than its release.
  if (pa.length === 0 || pb.length === 0) return pb.length - pa.length;
  const shared = Math.min(pa.length, pb.length);
  for (let i = 0; i < shared; i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    const xNumeric = isDigits(x);
    const yNumeric = isDigits(y);
    if (xNumeric && yNumeric) return compareNumeric(x, y);
    // Numeric identifiers are lower than alphanumeric ones; alphanumeric ones compare in ASCII order.
    if (xNumeric !== yNumeric) return xNumeric ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
