import { CONDITION_OPERATORS, SEGMENT_OPERATORS } from '@vexil/core';
import type { ConditionDraft } from '../form/revision-draft.js';
import { Field, FieldNote, type FormErrors } from './field.js';

/** A list of conditions, each attribute, operator and comma-separated values; `at` is the API's field path. */
export function ConditionsEditor(props: {
  at: string;
  label: string;
  conditions: ConditionDraft[];
  errors: FormErrors;
  allowSegments: boolean;
  onChange: (conditions: ConditionDraft[]) => void;
}) {
  const { at, conditions, errors, onChange } = props;
  const operators = CONDITION_OPERATORS.filter((op) => props.allowSegments || !SEGMENT_OPERATORS.includes(op));
  const change = (i: number, part: Partial<ConditionDraft>) =>
    onChange(conditions.map((c, j) => (j === i ? { ...c, ...part } : c)));
  return (
    <fieldset class="conditions">
      <legend>{props.label}</legend>
      <FieldNote errors={errors} field={at} />
      {conditions.length === 0 && <p class="muted small">No condition: holds for everyone.</p>}
      {conditions.map((c, i) => (
        <div class="row" key={i}>
          <FieldNote errors={errors} field={`${at}[${i}]`} />
          <Field label={`Attribute ${i + 1}`} field={`${at}[${i}].Attribute`} errors={errors}>
            {(attrs) => (
              <input
                {...attrs}
                value={c.attribute}
                placeholder="country"
                onInput={(e) => change(i, { attribute: (e.currentTarget as HTMLInputElement).value })}
              />
            )}
          </Field>
          <Field label="Operator" field={`${at}[${i}].Operator`} errors={errors}>
            {(attrs) => (
              <select
                {...attrs}
                value={c.operator}
                onChange={(e) => {
                  const operator = (e.currentTarget as HTMLSelectElement).value;
                  const segment = (SEGMENT_OPERATORS as readonly string[]).includes(operator);
                  change(i, segment ? { operator, attribute: 'targetingKey' } : { operator });
                }}
              >
                {operators.map((op) => (
                  <option key={op} value={op}>
                    {op}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Values (comma-separated)" field={`${at}[${i}].Values`} errors={errors}>
            {(attrs) => (
              <input
                {...attrs}
                value={c.values}
                placeholder="US, CA"
                onInput={(e) => change(i, { values: (e.currentTarget as HTMLInputElement).value })}
              />
            )}
          </Field>
          <button type="button" class="secondary" onClick={() => onChange(conditions.filter((_, j) => j !== i))}>
            Remove condition {i + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        class="secondary"
        onClick={() => onChange([...conditions, { attribute: '', operator: 'in', values: '' }])}
      >
        Add condition
      </button>
    </fieldset>
  );
}
