import type { FlagRef } from '@vexil/core';
import type { FlagAdmin } from './flag-admin.js';

/** A few flags that show each kind of rule, for `npm start` and first looks. */
export async function seedDemo(admin: FlagAdmin, project = 'demo'): Promise<void> {
  const flags: { ref: FlagRef; description: string; revisions: Parameters<FlagAdmin['addRevision']>[1][] }[] = [
    {
      ref: { project, flagType: 'feature', name: 'new_checkout' },
      description: 'The redesigned checkout page',
      revisions: [
        {
          ControlValue: false,
          Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 10, Value: true }],
          Comment: 'Start at 10%',
          OwnerID: 'demo',
        },
        {
          ControlValue: false,
          Treatments: [{ OverrideList: ['qa-1'], PercentRollout: 40, Value: true }],
          Comment: 'Rollout to 40%',
          OwnerID: 'demo',
        },
      ],
    },
    {
      ref: { project, flagType: 'data', name: 'llm_provider' },
      description: 'Which model answers customer questions',
      revisions: [
        {
          ControlValue: 'openai',
          Treatments: [
            { OverrideList: ['A123456'], PercentRollout: 20, Value: 'claude' },
            { OverrideList: [], PercentRollout: 5.5, Value: 'llama-3' },
          ],
          Comment: 'Try two providers',
          OwnerID: 'demo',
        },
      ],
    },
    {
      ref: { project, flagType: 'feature', name: 'dark_mode' },
      description: 'Dark theme for everybody',
      revisions: [
        { ControlValue: false, Treatments: [{ OverrideList: [], PercentRollout: 100, Value: true }], OwnerID: 'demo' },
      ],
    },
  ];
  for (const flag of flags) {
    if (await admin.store.latest('FLAG', flag.ref)) continue;
    await admin.addFlag(flag.ref, { description: flag.description });
    for (const revision of flag.revisions) await admin.addRevision(flag.ref, revision);
  }
}
