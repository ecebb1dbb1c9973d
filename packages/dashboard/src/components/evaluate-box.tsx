import type { ValueFlagType } from '@vexil/core';
import { useState } from 'preact/hooks';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { ContextEvaluation, Revision } from '../api/types.js';
import { describeConditions } from '../words/describe-condition.js';
import { ErrorNote } from './error-note.js';
import { Field, FormError, type FormErrors } from './field.js';

/** Why an evaluation gave its value, from its group: the override, the rule (in words), the percentage or the control value. */
export function explainGroup(group: string, revision: Revision | undefined): string {
  const rule = /^rule-(\d+)(?:-split-(\d+))?$/.exec(group);
  if (rule) {
    const conditions = revision?.Rules?.[Number(rule[1]) - 1]?.Conditions;
    const which = `rule ${rule[1]} (${describeConditions(conditions)})`;
    return rule[2] === undefined ? `matched ${which}` : `matched ${which}, split bucket ${rule[2]}`;
  }
  if (group.startsWith('override')) return "the id is in a treatment's override list";
  if (group.startsWith('treatment')) return 'the id falls in the percentage rollout';
  if (group === 'control') return 'no override, rule or percentage took it: the control value';
  if (group === 'disabled') return 'the flag is disabled (kill switch)';
  return group;
}

/** "What does id X get, and why": the admin evaluate route with a whole context (not logged). */
export function EvaluateBox(props: { project: string; flagType: ValueFlagType; name: string; revision?: Revision }) {
  const [id, setId] = useState('');
  const [attributes, setAttributes] = useState('');
  const [answer, setAnswer] = useState<ContextEvaluation | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [failure, setFailure] = useState<unknown>();
  const errors: FormErrors = { error, fields: ['context', 'context.targetingKey', 'attributes'] };

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setFailure(undefined);
    setAnswer(undefined);
    let extra: unknown = {};
    if (attributes.trim() !== '') {
      try {
        extra = JSON.parse(attributes);
      } catch {
        setError(
          new ApiError(400, {
            message: 'attributes must be a JSON object, e.g. {"country": "US"}',
            field: 'attributes',
          }),
        );
        return;
      }
    }
    const context = { ...(extra as object), ...(id.trim() === '' ? {} : { targetingKey: id.trim() }) };
    try {
      setAnswer(await api.evaluate(props.project, props.flagType, props.name, context));
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setError(e);
      else setFailure(e);
    }
  };

  return (
    <section aria-labelledby="evaluate-title" class="panel">
      <h2 id="evaluate-title">What does an id get, and why</h2>
      <form class="form inline" onSubmit={submit} noValidate>
        <FormError errors={errors} />
        <Field label="Instance id (targetingKey)" field="context.targetingKey" errors={errors}>
          {(attrs) => (
            <input {...attrs} value={id} onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)} />
          )}
        </Field>
        <Field label='Other attributes (JSON, e.g. {"country": "US"})' field="attributes" errors={errors} wide>
          {(attrs) => (
            <input
              {...attrs}
              value={attributes}
              onInput={(e) => setAttributes((e.currentTarget as HTMLInputElement).value)}
            />
          )}
        </Field>
        <div class="actions">
          <button type="submit">Evaluate</button>
        </div>
      </form>
      <ErrorNote error={failure} />
      {answer !== undefined && (
        <p class="answer" aria-live="polite">
          Value <strong class="mono">{JSON.stringify(answer.value)}</strong>, group <strong>{answer.group}</strong> (
          {answer.reason}
          {answer.variant !== undefined && answer.variant !== answer.group ? `, variant ${answer.variant}` : ''}):{' '}
          {explainGroup(answer.group, props.revision)}.
        </p>
      )}
    </section>
  );
}
