import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FeatureFlags, FlagConfigError, type LoadFlagFilesOptions, loadFlagFiles } from '../src/index.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vexil-flags-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Loads with no environment variables unless given, so the test process's own never leak in. */
function load(paths: string | string[], options: LoadFlagFilesOptions = {}) {
  return loadFlagFiles(paths, { environ: {}, ...options });
}

/** The FlagConfigError that `fn` throws. */
function configError(fn: () => unknown): FlagConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FlagConfigError);
    return error as FlagConfigError;
  }
  throw new Error('expected a FlagConfigError');
}

const MERINO_DEFAULT = `# Merino's configs/flags/default.toml
[default.flags.hello_world]
scheme = 'random'
enabled = 0.5
`;

const MERINO_TESTING = `[testing]
dynaconf_merge = true

[testing.flags.test-enabled]
enabled = 1
scheme = 'random'

[testing.flags.test-not-enabled]
enabled = 0
scheme = 'random'

[testing.flags.test-perc-enabled]
enabled = 0.5
scheme = 'random'

[testing.flags.test-perc-enabled-session]
enabled = 0.5
scheme = 'session'

[testing.flags.test-no-scheme]
enabled = 0.5
`;

describe('loadFlagFiles: layout and layering', () => {
  it("reads Merino's own flag directory: default.toml, then the MERINO_ENV section", () => {
    file('flags/testing.toml', MERINO_TESTING);
    file('flags/default.toml', MERINO_DEFAULT);
    const flags = load(join(dir, 'flags'), { environ: { MERINO_ENV: 'testing' } });
    expect({ ...flags }).toEqual({
      hello_world: { enabled: 0.5, scheme: 'random' },
      'test-enabled': { enabled: 1, scheme: 'random' },
      'test-not-enabled': { enabled: 0, scheme: 'random' },
      'test-perc-enabled': { enabled: 0.5, scheme: 'random' },
      'test-perc-enabled-session': { enabled: 0.5, scheme: 'session' },
      'test-no-scheme': { enabled: 0.5, scheme: 'session' },
    });
    // And they decide as Merino's tests expect.
    const ff = new FeatureFlags(flags, { sessionId: '000' });
    expect(ff.isEnabled('test-no-scheme')).toBe(true);
    expect(ff.isEnabled('test-enabled')).toBe(true);
    expect(new FeatureFlags(flags, { sessionId: 'fff' }).isEnabled('test-perc-enabled-session')).toBe(false);
  });

  it('ignores other environments: without MERINO_ENV the development section applies, not testing', () => {
    file('flags/default.toml', MERINO_DEFAULT);
    file('flags/testing.toml', MERINO_TESTING);
    file('flags/development.toml', '[development.flags.dev_only]\nenabled = 1\n');
    expect(Object.keys(load(join(dir, 'flags')))).toEqual(['hello_world', 'dev_only']);
  });

  it('layers the environment section over default field by field, and the option env wins over MERINO_ENV', () => {
    const path = file(
      'flags.toml',
      `[default.flags.new_ui]
scheme = 'random'
enabled = 0.1

[default.flags.search]
enabled = 0.2

[production.flags.new_ui]
enabled = 0.9

[stage.flags.search]
enabled = 0.3
`,
    );
    expect({ ...load(path, { env: 'production', environ: { MERINO_ENV: 'stage' } }) }).toEqual({
      new_ui: { enabled: 0.9, scheme: 'random' },
      search: { enabled: 0.2, scheme: 'session' },
    });
    expect({ ...load(path, { environ: { MERINO_ENV: 'stage' } }) }).toEqual({
      new_ui: { enabled: 0.1, scheme: 'random' },
      search: { enabled: 0.3, scheme: 'session' },
    });
    // Environment names match sections whatever their case, as in Dynaconf.
    expect(load(path, { env: 'PRODUCTION' }).new_ui?.enabled).toBe(0.9);
  });

  it('applies [global] over every environment, and a later file over an earlier one', () => {
    const first = file('a.toml', '[default.flags.x]\nenabled = 0.1\n[global.flags.y]\nenabled = 1\n');
    const second = file('b.toml', '[default.flags.x]\nenabled = 0.2\n[default.flags.y]\nenabled = 0\n');
    expect({ ...load([first, second]) }).toEqual({
      x: { enabled: 0.2, scheme: 'session' },
      y: { enabled: 1, scheme: 'session' },
    });
  });

  it('replaces the flags defined so far when a section sets dynaconf_merge = false', () => {
    const path = file(
      'flags.toml',
      '[default.flags.a]\nenabled = 1\n[production]\ndynaconf_merge = false\n[production.flags.b]\nenabled = 1\n',
    );
    expect(Object.keys(load(path, { env: 'production' }))).toEqual(['b']);
    expect(Object.keys(load(path, { env: 'stage' }))).toEqual(['a']);
  });

  it('overrides fields from MERINO_FLAGS__<name>__<field> variables, values read as TOML', () => {
    const path = file('flags.toml', "[default.flags.new_ui]\nscheme = 'random'\nenabled = 0.1\n");
    const flags = load(path, {
      environ: {
        MERINO_FLAGS__new_ui__enabled: '0.75',
        MERINO_FLAGS__NEW_UI__SCHEME: 'session',
        MERINO_FLAGS__from_env__enabled: '1',
        MERINO_FLAGS__inline: '{ enabled = 0.25, scheme = "random" }',
        OTHER_FLAGS__new_ui__enabled: '0',
      },
    });
    expect({ ...flags }).toEqual({
      new_ui: { enabled: 0.75, scheme: 'session' },
      from_env: { enabled: 1, scheme: 'session' },
      inline: { enabled: 0.25, scheme: 'random' },
    });
  });

  it('reads the variables of another prefix with envPrefix', () => {
    const path = file('flags.toml', '[default.flags.x]\nenabled = 0\n[canary.flags.x]\nenabled = 0.5\n');
    const flags = load(path, { envPrefix: 'SHOP', environ: { SHOP_ENV: 'canary', SHOP_FLAGS__x__scheme: 'random' } });
    expect({ ...flags }).toEqual({ x: { enabled: 0.5, scheme: 'random' } });
  });

  it('returns frozen flags, shared safely by every request', () => {
    const flags = load(file('flags.toml', MERINO_DEFAULT));
    expect(Object.isFrozen(flags)).toBe(true);
    expect(Object.isFrozen(flags.hello_world)).toBe(true);
  });
});

describe('loadFlagFiles: validation at start-up names the file, the flag and the field', () => {
  it.each([
    ['enabled = 1.5', /out of|from 0 to 1.*got 1\.5/],
    ['enabled = -0.1', /got -0\.1/],
    ['enabled = "0.5"', /got "0\.5" \(a string\)/],
    ['enabled = true', /got true/],
    ['enabled = nan', /got NaN/],
  ])('enabled: %s is refused', (line, reason) => {
    const path = file('flags.toml', `[default.flags.new_ui]\nscheme = 'session'\n${line}\n`);
    const error = configError(() => load(path));
    expect(error.message).toContain(path);
    expect(error.message).toContain('[default.flags.new_ui]');
    expect(error.message).toContain('flag "new_ui"');
    expect(error.message).toContain('field "enabled"');
    expect(error.message).toMatch(reason);
    expect(error).toMatchObject({ file: path, flag: 'new_ui', field: 'enabled', code: 'InvalidInput', status: 400 });
  });

  it('accepts the integers 0 and 1 for enabled, as Merino does', () => {
    const path = file('flags.toml', '[default.flags.off]\nenabled = 0\n[default.flags.on]\nenabled = 1\n');
    expect({ ...load(path) }).toEqual({
      off: { enabled: 0, scheme: 'session' },
      on: { enabled: 1, scheme: 'session' },
    });
  });

  it('refuses a flag without enabled, naming the file that defines it', () => {
    const path = file('flags.toml', "[default.flags.new_ui]\nscheme = 'random'\n");
    const error = configError(() => load(path));
    expect(error.message).toBe(
      `${path} [default.flags.new_ui]: flag "new_ui", field "enabled": is required: it must be a number from 0 to 1 (0 is off for everyone, 1 on for everyone, 0.25 a quarter)`,
    );
  });

  it('refuses a scheme other than random and session', () => {
    const path = file('flags.toml', "[default.flags.new_ui]\nenabled = 0.5\nscheme = 'sticky'\n");
    const error = configError(() => load(path));
    expect(error).toMatchObject({ file: path, flag: 'new_ui', field: 'scheme' });
    expect(error.message).toContain('must be "random" or "session", got "sticky"');
  });

  it('refuses an unknown field (a typo would otherwise fall back to the session scheme silently)', () => {
    const path = file('flags.toml', "[default.flags.new_ui]\nenabled = 0.5\nschme = 'random'\n");
    const error = configError(() => load(path));
    expect(error).toMatchObject({ file: path, flag: 'new_ui', field: 'schme' });
    expect(error.message).toContain('is not a flag field');
  });

  it('names the section that set the bad value when layers disagree', () => {
    const base = file('default.toml', '[default.flags.new_ui]\nenabled = 0.5\n');
    const prod = file('production.toml', '[production.flags.new_ui]\nenabled = 5\n');
    const error = configError(() => load([base, prod], { env: 'production' }));
    expect(error.message).toContain(`${prod} [production.flags.new_ui]: flag "new_ui", field "enabled"`);
  });

  it('names the variable that set the bad value', () => {
    const path = file('flags.toml', '[default.flags.new_ui]\nenabled = 0.5\n');
    const error = configError(() => load(path, { environ: { MERINO_FLAGS__new_ui__enabled: 'half' } }));
    expect(error.message).toBe(
      'environment variable MERINO_FLAGS__new_ui__enabled: flag "new_ui", field "enabled": must be a number from 0 to 1 (0 is off for everyone, 1 on for everyone, 0.25 a quarter), got "half" (a string)',
    );
    const badName = configError(() => load(path, { environ: { MERINO_FLAGS__new_ui__enabled__x: '1' } }));
    expect(badName.file).toBe('environment variable MERINO_FLAGS__new_ui__enabled__x');
  });

  it('refuses a flag that is not a table', () => {
    const path = file('flags.toml', '[default.flags]\nnew_ui = 0.5\n');
    const error = configError(() => load(path));
    expect(error).toMatchObject({ file: path, flag: 'new_ui' });
    expect(error.message).toContain('must be a table');
  });

  it('refuses bad TOML with the line and column', () => {
    const path = file('flags.toml', '[default.flags.new_ui]\nenabled = 0.5\nscheme = \n');
    const error = configError(() => load(path));
    expect(error.file).toBe(path);
    expect(error.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 3, column \\d+: `));
    expect(error.message).toContain('scheme = ');
  });

  it('refuses a file that cannot be read, naming it', () => {
    const missing = join(dir, 'nope.toml');
    expect(configError(() => load(missing)).message).toMatch(
      new RegExp(`${missing}: cannot read the flag file: ENOENT`),
    );
    if (process.getuid?.() !== 0) {
      const locked = file('locked.toml', MERINO_DEFAULT);
      chmodSync(locked, 0o000);
      expect(configError(() => load(locked)).message).toContain('EACCES');
    }
    mkdirSync(join(dir, 'empty'));
    expect(configError(() => load(join(dir, 'empty'))).message).toContain('holds no .toml flag files');
  });
});
