import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api/api-error.js';
import { errorOwner } from '../form/field-errors.js';

/** The API's refusal of a form, and the inputs it could name (their field paths). */
export interface FormErrors {
  error: ApiError | undefined;
  fields: readonly string[];
}

/** The id of the message shown beside the input for `field`, for aria-describedby. */
export function errorId(field: string): string {
  return `error-${field.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Whether the API's error belongs next to the input for `field`. */
export function errorAt(errors: FormErrors, field: string): string | undefined {
  if (errors.error === undefined) return undefined;
  return errorOwner(errors.error.field, errors.fields) === field ? errors.error.message : undefined;
}

/** A labelled input with the API's message for its field beside it. */
export function Field(props: {
  label: string;
  field: string;
  errors: FormErrors;
  children: (attrs: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ComponentChildren;
  wide?: boolean;
}) {
  const message = errorAt(props.errors, props.field);
  const id = `input-${props.field.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const attrs = {
    id,
    'aria-invalid': message !== undefined,
    ...(message === undefined ? {} : { 'aria-describedby': errorId(props.field) }),
  };
  return (
    <div class={props.wide ? 'field wide' : 'field'} data-field={props.field}>
      <label for={id}>{props.label}</label>
      {props.children(attrs)}
      {message !== undefined && (
        <p class="field-error" id={errorId(props.field)} role="alert">
          {message}
        </p>
      )}
    </div>
  );
}

/** The API's message when it names no input of the form (or none the form shows). */
export function FormError({ errors }: { errors: FormErrors }) {
  if (errors.error === undefined) return null;
  if (errorOwner(errors.error.field, errors.fields) !== '') return null;
  return (
    <p class="error" role="alert">
      {errors.error.message}
      {errors.error.field !== undefined && <> (field {errors.error.field})</>}
    </p>
  );
}

/** The API's message for a field that has no single input: a list as a whole, a rule, a split's buckets. */
export function FieldNote({ errors, field }: { errors: FormErrors; field: string }) {
  const message = errorAt(errors, field);
  if (message === undefined) return null;
  return (
    <p class="field-error" data-field={field} role="alert">
      {message}
    </p>
  );
}
