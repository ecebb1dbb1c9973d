import type { ValueFlagType } from '@vexil/core';
import type { ValueDraft } from '../form/revision-draft.js';

type Attrs = { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string };

/** A value of the flag's type: true/false for feature flags, text, a number, or JSON; or the caller's default (null). */
export function ValueInput(props: {
  attrs: Attrs;
  flagType: ValueFlagType;
  value: ValueDraft;
  onChange: (value: ValueDraft) => void;
}) {
  const { attrs, flagType, value, onChange } = props;
  if (flagType === 'feature') {
    return (
      <select
        {...attrs}
        value={value.kind === 'default' ? 'null' : value.text}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          onChange(v === 'null' ? { kind: 'default', text: 'true' } : { kind: 'value', text: v });
        }}
      >
        <option value="true">true</option>
        <option value="false">false</option>
        <option value="null">default (null)</option>
      </select>
    );
  }
  const input = (e: Event) => onChange({ kind: 'value', text: (e.currentTarget as HTMLInputElement).value });
  return (
    <span class="value-input">
      {flagType === 'json' ? (
        <textarea {...attrs} rows={2} value={value.text} disabled={value.kind === 'default'} onInput={input} />
      ) : (
        <input
          {...attrs}
          inputMode={flagType === 'number' ? 'decimal' : undefined}
          value={value.text}
          disabled={value.kind === 'default'}
          onInput={input}
        />
      )}
      <label class="check small">
        <input
          type="checkbox"
          checked={value.kind === 'default'}
          onChange={(e) =>
            onChange({ kind: (e.currentTarget as HTMLInputElement).checked ? 'default' : 'value', text: value.text })
          }
        />
        <span>default (null)</span>
      </label>
    </span>
  );
}
