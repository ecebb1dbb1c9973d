/**
 * OpenFeature's own conformance suite, run against `vexil serve` the way OpenFeature's
 * SDKs run it: the feature files, parsed by cucumber's gherkin parser, step
 * definitions for every step, and the official OFREP providers sending the flag keys
 * unchanged, with no targeting key added.
 *
 * Fixtures (read in place from ../shared/conformance/openfeature, never copied; their
 * README names the commits): open-feature/spec `specification/assets/gherkin/` at
 * 6fd4d54a9a7aff4e080545e7ddc37c69367cc65e (v0.9.0-3) — the five feature files and
 * `test-flags.json` — and open-feature/flagd-testbed `flags/testing-flags.json` at
 * 82ba89ec8db498fa51368e558e4d87642d9e93c4 (v3.9.0).
 *
 * Flags: test-flags.json (its contextEvaluator code translated to flagd JSONLogic, see
 * openfeature/test-flags.ts) and the testbed flags the features name, written as one
 * flagd file and imported with `vexil import flagd`, into the project that `vexil
 * serve` answers OFREP for (VEXIL_DEFAULT_PROJECT).
 *
 * Providers (versions pinned in package.json):
 * - @openfeature/ofrep-web-provider 0.4.3 (ofrep-core 2.3) on @openfeature/web-sdk
 *   1.10 runs every feature but contextMerging. It is the maintained official OFREP
 *   provider: the server one, @openfeature/ofrep-provider, is published only as 0.1.3
 *   on ofrep-core 0.1, which reads an answer without `value` (OFREP's "use the code
 *   default", which is how a DISABLED flag answers) as a type mismatch. The web
 *   provider uses Node's global fetch; the scenario's context is the SDK's context,
 *   for which it evaluates every flag with one OFREP bulk request.
 * - contextMerging.feature needs the server SDK's context levels (transaction,
 *   invocation, before hooks): @openfeature/server-sdk 1.23 with
 *   @openfeature/ofrep-provider 0.1.3, wrapped to keep the context it is given.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenFeature as ServerOpenFeature } from '@openfeature/server-sdk';
import { OpenFeature as WebOpenFeature } from '@openfeature/web-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVexil, startVexil, type VexilProcess } from '../packages/server/test/support/vexil-process.js';
import { contextMergingSteps } from './openfeature/context-merging-steps.js';
import { evaluationSteps } from './openfeature/evaluation-steps.js';
import { loadScenarios, type Scenario } from './openfeature/gherkin-scenarios.js';
import { suiteFlags } from './openfeature/test-flags.js';

const SUITE = fileURLToPath(new URL('../../shared/conformance/openfeature/', import.meta.url));
const FEATURES = [
  'evaluation.feature',
  'evaluation_v2.feature',
  'metadata.feature',
  'hooks.feature',
  'contextMerging.feature',
];
const PROJECT = 'openfeature';

/**
 * Scenarios that need a provider in a state the SDKs' own harnesses make with test
 * doubles: one that never finishes initialising, fails fatally, errors or goes stale.
 * They test how the SDK handles provider states, which needs a backend that fails or
 * never answers, not a flag service. By scenario name (an outline's name covers all
 * its rows); a test below checks the list is exactly the scenarios using such a provider.
 */
const PROVIDER_STATE_DOUBLES: Readonly<Record<string, string>> = {
  'Provider not ready error': '"a not ready provider": a provider that never finishes initialising',
  'Provider in fatal state error': '"a fatal provider": a provider whose initialisation failed fatally',
  'Provider status accessibility [not ready, NOT_READY]': '"a not ready provider"',
  'Provider status accessibility [error, ERROR]': '"a error provider": a provider in the ERROR state',
  'Provider status accessibility [fatal, FATAL]': '"a fatal provider"',
  'Provider status accessibility [stale, STALE]': '"a stale provider": a provider whose cache went stale',
};
const PROVIDER_STATE_DOUBLE = /^a (not ready|fatal|error|stale) provider$/;

/**
 * Scenarios the official provider does not pass, whatever the server answers. "CACHED
 * reason" evaluates a flag twice and wants CACHED the second time: the OFREP web
 * provider answers CACHED only from its persisted cache (at start-up or on a context
 * change, cacheMode local-cache-first), and a second evaluation reads its in-memory
 * answer with the server's reason. OpenFeature's Java, .NET and Kotlin SDKs leave this
 * tag out of their own runs (`@reason-codes-cached`).
 */
const PROVIDER_BEHAVIOUR: Readonly<Record<string, string>> = {
  'CACHED reason':
    'the OFREP web provider reports CACHED only for answers from its persisted cache, not for a second evaluation',
};

function exclusion(scenario: Scenario): string | undefined {
  const outline = scenario.name.replace(/ \[.*\]$/, '');
  for (const list of [PROVIDER_STATE_DOUBLES, PROVIDER_BEHAVIOUR]) {
    const reason = list[scenario.name] ?? list[outline];
    if (reason !== undefined) return reason;
  }
  return undefined;
}

if (!existsSync(SUITE)) {
  describe('OpenFeature gherkin suite', () => {
    it.skip(`skipped: ${SUITE} is absent (OpenFeature's feature files are read from beside the repository)`, () => {});
  });
} else {
  const scenarios = loadScenarios(SUITE, FEATURES);
  const outcomes = { passed: 0, failed: 0, excluded: 0 };

  describe('OpenFeature gherkin suite against vexil serve, through the official OFREP providers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vexil-openfeature-'));
    let service: VexilProcess;

    beforeAll(async () => {
      const read = (file: string) => JSON.parse(readFileSync(join(SUITE, file), 'utf8'));
      const named = new Set(
        scenarios.flatMap((s) =>
          s.steps.flatMap((step) => [...step.text.matchAll(/key "([^"]+)"/g)].map((m) => m[1]!)),
        ),
      );
      const flagsFile = join(dir, 'openfeature-flags.json');
      writeFileSync(
        flagsFile,
        JSON.stringify(suiteFlags(read('test-flags.json'), read('flagd-testbed-testing-flags.json'), named), null, 2),
      );
      const store = `sqlite:${join(dir, 'vexil.db')}`;
      const imported = runVexil(['--store', store, 'import', 'flagd', flagsFile, '-p', PROJECT], {});
      expect(imported.status, imported.stderr).toBe(0);
      // The import started the project, so its evaluation needs a read token; served like flagd (which has no
      // tokens), it is public, as an operator would set it: the official providers then need no headers.
      const opened = runVexil(['--store', store, 'project', 'set', PROJECT, '--public-evaluation', 'on'], {});
      expect(opened.status, opened.stderr).toBe(0);
      service = await startVexil({ VEXIL_STORE: store, VEXIL_DEFAULT_PROJECT: PROJECT });
    });

    afterAll(async () => {
      await WebOpenFeature.close();
      await ServerOpenFeature.close();
      await service?.stop();
      rmSync(dir, { recursive: true, force: true });
      const total = outcomes.passed + outcomes.failed + outcomes.excluded;
      console.log(
        `OpenFeature gherkin suite: ${outcomes.passed} passed, ${outcomes.failed} failed, ${outcomes.excluded} excluded, ${total} scenarios`,
      );
    });

    it('has exactly one step definition for every step of every scenario', () => {
      const steps = new Map<string, number>();
      for (const scenario of scenarios.filter((s) => exclusion(s) === undefined)) {
        const registry = scenario.file === 'contextMerging.feature' ? contextMergingSteps : evaluationSteps;
        for (const step of scenario.steps) steps.set(step.text, registry.matching(step.text));
      }
      expect([...steps].filter(([, count]) => count !== 1)).toEqual([]);
    });

    it('excludes exactly the scenarios that need a provider-state double', () => {
      const needDouble = scenarios.filter((s) => s.steps.some((step) => PROVIDER_STATE_DOUBLE.test(step.text)));
      const listed = scenarios.filter(
        (s) => (PROVIDER_STATE_DOUBLES[s.name] ?? PROVIDER_STATE_DOUBLES[s.name.replace(/ \[.*\]$/, '')]) !== undefined,
      );
      expect(needDouble.map((s) => s.name).sort()).toEqual(listed.map((s) => s.name).sort());
    });

    scenarios.forEach((scenario, index) => {
      const title = `${scenario.file}: ${scenario.name}`;
      const reason = exclusion(scenario);
      if (reason !== undefined) {
        it.skip(`${title} (excluded: ${reason})`, () => {});
        outcomes.excluded++;
        return;
      }
      it(title, async () => {
        const domain = `scenario-${index}`;
        try {
          if (scenario.file === 'contextMerging.feature') {
            const world = { baseUrl: service.url, domain, levels: new Map(), precedence: [] };
            for (const step of scenario.steps) await contextMergingSteps.run(world, step.text, step.table);
          } else {
            const world = { baseUrl: service.url, domain, context: {}, hookCalls: [], optionCalls: [] };
            for (const step of scenario.steps) await evaluationSteps.run(world, step.text, step.table);
          }
          outcomes.passed++;
        } catch (error) {
          outcomes.failed++;
          throw error;
        } finally {
          await WebOpenFeature.clearProviders();
          WebOpenFeature.clearHooks();
          await WebOpenFeature.clearContexts();
          await ServerOpenFeature.clearProviders();
          ServerOpenFeature.clearHooks();
          ServerOpenFeature.setContext({});
        }
      });
    });
  });
}
