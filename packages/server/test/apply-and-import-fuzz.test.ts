import { parseAirflowConfig } from '@vexil/core/runbook';
import { MemoryStore } from '@vexil/store';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT_MS, fuzz } from '../../../test/fuzz.js';
import { FlagAdmin } from '../src/flag-admin.js';
import { convertFlagdDefinition, planFlagdImport } from '../src/flagd/flagd-definition.js';
import { importFlagdPlan } from '../src/flagd/flagd-import.js';
import { seedFlags } from './service-harness.js';
import { airflowConfig, anyJson, expectClientError, flagdFile, storeContents } from './support/fuzz-inputs.js';

/**
 * Property tests of what writes many flags at once: `vexil apply` (Airflow configs) and
 * `vexil import flagd`. Whatever the files hold: they are written, or refused with a
 * client error (400/404/409) and nothing at all is written.
 */

async function seededAdmin(): Promise<{ admin: FlagAdmin; store: MemoryStore }> {
  const store = new MemoryStore();
  const admin = new FlagAdmin(store);
  await seedFlags(admin);
  return { admin, store };
}

describe('vexil apply, for any configs', () => {
  it(
    'writes a row per config, or refuses with a client error and writes nothing',
    async () => {
      const { admin, store } = await seededAdmin();
      const seen = { written: 0, refused: 0 };
      await fuzz(
        fc.asyncProperty(fc.array(airflowConfig, { minLength: 1, maxLength: 3 }), async (configs) => {
          const before = await storeContents(store);
          let parsed: ReturnType<typeof parseAirflowConfig>[];
          try {
            parsed = configs.map((config, i) => parseAirflowConfig(JSON.stringify(config), `config-${i}.json`));
          } catch (error) {
            expectClientError(error);
            return;
          }
          try {
            const rows = await admin.apply(parsed);
            expect(rows).toHaveLength(parsed.length);
            seen.written++;
          } catch (error) {
            expectClientError(error);
            expect(await storeContents(store)).toBe(before);
            seen.refused++;
          }
        }),
        300,
      );
      // The inputs reach both outcomes, so the property checks something.
      expect(seen.written).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('vexil import flagd, for any file', () => {
  it(
    'converts without throwing: what cannot be mapped is listed, never thrown',
    async () => {
      await fuzz(
        fc.property(fc.oneof(flagdFile, anyJson), (definition) => {
          const { refusals } = convertFlagdDefinition(definition, 'fuzz.json');
          for (const refusal of refusals) expect(refusal.message).toEqual(expect.any(String));
        }),
        500,
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'imports every flag and segment, or refuses with a client error and writes nothing',
    async () => {
      const { admin, store } = await seededAdmin();
      const seen = { written: 0, refused: 0 };
      await fuzz(
        fc.asyncProperty(flagdFile, fc.boolean(), async (definition, dryRun) => {
          const before = await storeContents(store);
          try {
            const plan = planFlagdImport(definition, 'fuzz.json');
            await importFlagdPlan(admin, 'shop', plan, { source: 'fuzz.json', dryRun });
            if (dryRun) expect(await storeContents(store)).toBe(before);
            else seen.written++;
          } catch (error) {
            expectClientError(error);
            expect(await storeContents(store)).toBe(before);
            seen.refused++;
          }
        }),
        300,
      );
      expect(seen.written).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});
