import type { ValueFlagType } from '@vexil/core';
import { useMemo, useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { Impact } from '../api/types.js';
import { approvalsRequired, isApprovalsRequired, rememberApprovalsRequired } from '../approvals.js';
import { ConditionsEditor } from '../components/conditions-editor.js';
import { ErrorNote } from '../components/error-note.js';
import { Field, FieldNote, FormError, type FormErrors } from '../components/field.js';
import { ImpactPreview } from '../components/impact-preview.js';
import { ValueInput } from '../components/value-input.js';
import { revisionFields } from '../form/field-errors.js';
import { draftOf, type RevisionDraft, type RuleDraft, toRevisionBody } from '../form/revision-draft.js';
import { useLoad } from '../hooks.js';
import { describeRevision } from '../words/describe-revision.js';
import { browserOffsetAt, formatOffset, isoWithOffset, localInputValue } from '../words/schedule-time.js';

type Params = { project: string; type: string; name: string };

/** Writes a new revision, starting from the one in force; previews its impact first if asked. */
export function RevisionEditorPage({ params }: { params: Params }) {
  const project = decodeURIComponent(params.project);
  const name = decodeURIComponent(params.name);
  const flagType = params.type as ValueFlagType;
  const loaded = useLoad(() => api.flag(project, flagType, name), [project, flagType, name]);
  if (loaded.error !== undefined) return <ErrorNote error={loaded.error} />;
  if (loaded.data === undefined) return <p class="loading">Loading…</p>;
  return (
    <RevisionEditor
      project={project}
      flagType={flagType}
      name={name}
      initial={draftOf(loaded.data.latestRevision?.revision, flagType)}
      basedOn={loaded.data.latestRevision?.wtime ?? null}
    />
  );
}

function RevisionEditor(props: {
  project: string;
  flagType: ValueFlagType;
  name: string;
  initial: RevisionDraft;
  /** The revision the form started from: publishing fails (409) if another was written since. */
  basedOn: string | null;
}) {
  const { project, flagType, name } = props;
  const [, navigate] = useLocation();
  const [draft, setDraft] = useState(props.initial);
  const [error, setError] = useState<ApiError | undefined>();
  const [failure, setFailure] = useState<unknown>();
  const [impact, setImpact] = useState<Impact | undefined>();
  const [days, setDays] = useState(1);
  const [busy, setBusy] = useState(false);
  const [proposeOnly, setProposeOnly] = useState(() => approvalsRequired(project));
  const [scheduled, setScheduled] = useState(false);
  const [zone, setZone] = useState<'browser' | 'utc'>('browser');
  const [at, setAt] = useState(() => localInputValue(new Date(), 60, -new Date().getTimezoneOffset()));
  const fields = useMemo(() => [...revisionFields(draft), 'at'], [draft]);
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const offset = zone === 'utc' ? 0 : browserOffsetAt(at);
  const errors: FormErrors = { error, fields };
  const flagUrl = `/p/${encodeURIComponent(project)}/flags/${flagType}/${encodeURIComponent(name)}`;
  const update = (change: (d: RevisionDraft) => void) =>
    setDraft((d) => {
      const next = structuredClone(d);
      change(next);
      return next;
    });

  const send = async (what: 'preview' | 'publish') => {
    setBusy(true);
    setError(undefined);
    setFailure(undefined);
    const body = toRevisionBody(draft, flagType);
    try {
      if (what === 'preview') {
        setImpact(await api.impact(project, flagType, name, body, days));
      } else if (scheduled) {
        // The typed wall-clock time plus the zone the form names: the API refuses a time without one.
        const iso = isoWithOffset(at, offset) ?? at;
        if (proposeOnly) {
          await api.propose(project, flagType, name, { kind: 'schedule', at: iso, revision: body });
          navigate(`/p/${encodeURIComponent(project)}/proposals`);
        } else {
          await api.schedule(project, flagType, name, iso, body);
          navigate(flagUrl);
        }
      } else if (proposeOnly) {
        await api.propose(project, flagType, name, { kind: 'revision', revision: body });
        navigate(`/p/${encodeURIComponent(project)}/proposals`);
      } else {
        await api.addRevision(project, flagType, name, { ...body, expectedLatest: props.basedOn });
        navigate(flagUrl);
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setError(withinRevision(e));
      else if (e instanceof ApiError && isApprovalsRequired(e)) {
        rememberApprovalsRequired(project, true);
        setProposeOnly(true);
        setFailure(e);
      } else setFailure(e);
    } finally {
      setBusy(false);
    }
  };

  let words: string | undefined;
  try {
    words = describeRevision({
      Name: name,
      Type: 'FEATURE',
      FormatVersion: 2,
      ...toRevisionBody(draft, flagType),
    } as never);
  } catch {
    words = undefined;
  }

  return (
    <section>
      <p class="crumbs">
        <Link href={flagUrl}>← {name}</Link>
      </p>
      <h1>New revision of {name}</h1>
      <form
        class="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void send('publish');
        }}
      >
        <FormError errors={errors} />
        <ErrorNote error={failure} />
        {words !== undefined && (
          <p class="words" aria-live="polite">
            In words: {words}
          </p>
        )}

        <Field label="Otherwise (control value)" field="ControlValue" errors={errors}>
          {(attrs) => (
            <ValueInput
              attrs={attrs}
              flagType={flagType}
              value={draft.control}
              onChange={(v) =>
                update((d) => {
                  d.control = v;
                })
              }
            />
          )}
        </Field>

        <fieldset>
          <legend>Treatments (overrides and percentages)</legend>
          <FieldNote errors={errors} field="Treatments" />
          {draft.treatments.map((t, i) => (
            <div class="row" key={i}>
              <FieldNote errors={errors} field={`Treatments[${i}]`} />
              <Field label={`Treatment ${i + 1} percentage`} field={`Treatments[${i}].PercentRollout`} errors={errors}>
                {(attrs) => (
                  <input
                    {...attrs}
                    inputMode="decimal"
                    value={t.percent}
                    onInput={(e) =>
                      update((d) => {
                        d.treatments[i]!.percent = (e.currentTarget as HTMLInputElement).value;
                      })
                    }
                  />
                )}
              </Field>
              <Field label={`Treatment ${i + 1} value`} field={`Treatments[${i}].Value`} errors={errors}>
                {(attrs) => (
                  <ValueInput
                    attrs={attrs}
                    flagType={flagType}
                    value={t.value}
                    onChange={(v) =>
                      update((d) => {
                        d.treatments[i]!.value = v;
                      })
                    }
                  />
                )}
              </Field>
              <Field
                label={`Treatment ${i + 1} overrides (ids)`}
                field={`Treatments[${i}].OverrideList`}
                errors={errors}
                wide
              >
                {(attrs) => (
                  <textarea
                    {...attrs}
                    rows={1}
                    value={t.overrides}
                    onInput={(e) =>
                      update((d) => {
                        d.treatments[i]!.overrides = (e.currentTarget as HTMLTextAreaElement).value;
                      })
                    }
                  />
                )}
              </Field>
              <button type="button" class="secondary" onClick={() => update((d) => void d.treatments.splice(i, 1))}>
                Remove treatment {i + 1}
              </button>
            </div>
          ))}
          <button
            type="button"
            class="secondary"
            onClick={() =>
              update((d) => void d.treatments.push({ percent: '0', value: { ...d.control }, overrides: '' }))
            }
          >
            Add treatment
          </button>
        </fieldset>

        <fieldset>
          <legend>Rules (in order, before the percentages)</legend>
          <FieldNote errors={errors} field="Rules" />
          {draft.rules.map((rule, i) => (
            <RuleEditor key={i} index={i} rule={rule} flagType={flagType} errors={errors} update={update} />
          ))}
          <button
            type="button"
            class="secondary"
            onClick={() =>
              update(
                (d) =>
                  void d.rules.push({
                    conditions: [{ attribute: '', operator: 'in', values: '' }],
                    mode: 'value',
                    value: { ...d.control },
                    split: [],
                  }),
              )
            }
          >
            Add rule
          </button>
        </fieldset>

        <fieldset>
          <legend>Variants (names for the values)</legend>
          <FieldNote errors={errors} field="Variants" />
          {draft.variants.map((v, i) => (
            <div class="row" key={i}>
              <Field label={`Variant ${i + 1} name`} field={`Variants.${v.name.trim()}#name`} errors={errors}>
                {(attrs) => (
                  <input
                    {...attrs}
                    value={v.name}
                    onInput={(e) =>
                      update((d) => {
                        d.variants[i]!.name = (e.currentTarget as HTMLInputElement).value;
                      })
                    }
                  />
                )}
              </Field>
              <Field label={`Variant ${i + 1} value`} field={`Variants.${v.name.trim()}`} errors={errors}>
                {(attrs) => (
                  <ValueInput
                    attrs={attrs}
                    flagType={flagType}
                    value={v.value}
                    onChange={(value) =>
                      update((d) => {
                        d.variants[i]!.value = value;
                      })
                    }
                  />
                )}
              </Field>
              <button type="button" class="secondary" onClick={() => update((d) => void d.variants.splice(i, 1))}>
                Remove variant {i + 1}
              </button>
            </div>
          ))}
          <button
            type="button"
            class="secondary"
            onClick={() => update((d) => void d.variants.push({ name: '', value: { ...d.control } }))}
          >
            Add variant
          </button>
        </fieldset>

        <fieldset>
          <legend>Metadata (owner, ticket, expires YYYY-MM-DD, or any key)</legend>
          <FieldNote errors={errors} field="Metadata" />
          {draft.metadata.map((m, i) => (
            <div class="row" key={i}>
              <Field label={`Key ${i + 1}`} field={`Metadata.${m.key.trim()}#key`} errors={errors}>
                {(attrs) => (
                  <input
                    {...attrs}
                    value={m.key}
                    onInput={(e) =>
                      update((d) => {
                        d.metadata[i]!.key = (e.currentTarget as HTMLInputElement).value;
                      })
                    }
                  />
                )}
              </Field>
              <Field label={`Value ${i + 1}`} field={`Metadata.${m.key.trim()}`} errors={errors}>
                {(attrs) => (
                  <input
                    {...attrs}
                    value={m.value}
                    onInput={(e) =>
                      update((d) => {
                        d.metadata[i]!.value = (e.currentTarget as HTMLInputElement).value;
                      })
                    }
                  />
                )}
              </Field>
              <button type="button" class="secondary" onClick={() => update((d) => void d.metadata.splice(i, 1))}>
                Remove key {i + 1}
              </button>
            </div>
          ))}
          <button
            type="button"
            class="secondary"
            onClick={() => update((d) => void d.metadata.push({ key: '', value: '' }))}
          >
            Add metadata key
          </button>
        </fieldset>

        <label class="check">
          <input
            type="checkbox"
            checked={draft.disabled}
            onChange={(e) =>
              update((d) => {
                d.disabled = (e.currentTarget as HTMLInputElement).checked;
              })
            }
          />
          <span>Disabled (kill switch: everyone gets the control value)</span>
        </label>

        <Field label="Comment (why)" field="Comment" errors={errors} wide>
          {(attrs) => (
            <input
              {...attrs}
              value={draft.comment}
              onInput={(e) =>
                update((d) => {
                  d.comment = (e.currentTarget as HTMLInputElement).value;
                })
              }
            />
          )}
        </Field>

        <details class="advanced">
          <summary>Hashing (kept from the revision in force)</summary>
          <p class="small">
            Hash {draft.hashAlgorithm ?? 'md5 (default)'}; salt{' '}
            {draft.salt === undefined
              ? 'the flag name (default)'
              : draft.salt === null
                ? 'none (the bare id)'
                : draft.salt}
            . Keeping them keeps every id in its group.
          </p>
        </details>

        <fieldset>
          <legend>When</legend>
          <label class="check">
            <input
              type="checkbox"
              checked={scheduled}
              onChange={(e) => setScheduled((e.currentTarget as HTMLInputElement).checked)}
            />
            <span>Schedule this revision (written at the time you choose, over whatever is in force then)</span>
          </label>
          {scheduled && (
            <div class="row">
              <Field label="Takes effect at" field="at" errors={errors}>
                {(attrs) => (
                  <input
                    {...attrs}
                    type="datetime-local"
                    step={1}
                    value={at}
                    onInput={(e) => setAt((e.currentTarget as HTMLInputElement).value)}
                  />
                )}
              </Field>
              <label>
                <span>Time zone</span>
                <select
                  value={zone}
                  onChange={(e) => setZone((e.currentTarget as HTMLSelectElement).value as 'browser' | 'utc')}
                >
                  <option value="browser">
                    {browserZone} (UTC{formatOffset(browserOffsetAt(at))})
                  </option>
                  <option value="utc">UTC (+00:00)</option>
                </select>
              </label>
              <p class="small" data-testid="schedule-at">
                Sent as {isoWithOffset(at, offset) ?? 'an incomplete time'}
              </p>
            </div>
          )}
        </fieldset>

        {proposeOnly && (
          <p class="notice" role="status">
            This project requires approval: the change is proposed, and takes effect once another token owner approves
            it on the Proposals page.
          </p>
        )}

        <div class="actions">
          <label>
            <span>Impact over the last</span>
            <select
              value={String(days)}
              onChange={(e) => setDays(Number((e.currentTarget as HTMLSelectElement).value))}
            >
              {[1, 3, 7, 14, 30].map((n) => (
                <option key={n} value={n}>
                  {n === 1 ? '1 day' : `${n} days`}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="secondary" disabled={busy} onClick={() => void send('preview')}>
            Preview impact
          </button>
          <button type="submit" disabled={busy}>
            {scheduled
              ? proposeOnly
                ? 'Propose scheduled revision (needs approval)'
                : 'Schedule revision'
              : proposeOnly
                ? 'Propose revision (needs approval)'
                : 'Publish revision'}
          </button>
        </div>
        {impact !== undefined && <ImpactPreview impact={impact} />}
      </form>
    </section>
  );
}

/** A schedule's or proposal's refusal names the revision's field under `revision.`; the form's inputs are named without it. */
function withinRevision(error: ApiError): ApiError {
  if (error.field === undefined || !error.field.startsWith('revision.')) return error;
  return new ApiError(error.status, {
    error: error.code,
    message: error.message,
    field: error.field.slice('revision.'.length),
    hint: error.hint,
  });
}

function RuleEditor(props: {
  index: number;
  rule: RuleDraft;
  flagType: ValueFlagType;
  errors: FormErrors;
  update: (change: (d: RevisionDraft) => void) => void;
}) {
  const { index: i, rule, flagType, errors, update } = props;
  const at = `Rules[${i}]`;
  return (
    <div class="rule" data-field={at}>
      <h3>Rule {i + 1}</h3>
      <FieldNote errors={errors} field={at} />
      <ConditionsEditor
        at={`${at}.Conditions`}
        label={`Rule ${i + 1}: when all hold`}
        conditions={rule.conditions}
        errors={errors}
        allowSegments
        onChange={(conditions) =>
          update((d) => {
            d.rules[i]!.conditions = conditions;
          })
        }
      />
      <fieldset>
        <legend>Rule {i + 1} gives</legend>
        <label class="check">
          <input
            type="radio"
            name={`rule-${i}-mode`}
            checked={rule.mode === 'value'}
            onChange={() =>
              update((d) => {
                d.rules[i]!.mode = 'value';
              })
            }
          />
          <span>one value</span>
        </label>
        <label class="check">
          <input
            type="radio"
            name={`rule-${i}-mode`}
            checked={rule.mode === 'split'}
            onChange={() =>
              update((d) => {
                const r = d.rules[i]!;
                r.mode = 'split';
                if (r.split.length === 0) r.split = [{ percent: '100', value: { ...r.value } }];
              })
            }
          />
          <span>a percentage split</span>
        </label>
        {rule.mode === 'value' ? (
          <Field label={`Rule ${i + 1} value`} field={`${at}.Value`} errors={errors}>
            {(attrs) => (
              <ValueInput
                attrs={attrs}
                flagType={flagType}
                value={rule.value}
                onChange={(v) =>
                  update((d) => {
                    d.rules[i]!.value = v;
                  })
                }
              />
            )}
          </Field>
        ) : (
          <>
            {rule.split.map((b, j) => (
              <div class="row" key={j}>
                <Field label={`Bucket ${j + 1} percent`} field={`${at}.Split[${j}].Percent`} errors={errors}>
                  {(attrs) => (
                    <input
                      {...attrs}
                      inputMode="decimal"
                      value={b.percent}
                      onInput={(e) =>
                        update((d) => {
                          d.rules[i]!.split[j]!.percent = (e.currentTarget as HTMLInputElement).value;
                        })
                      }
                    />
                  )}
                </Field>
                <Field label={`Bucket ${j + 1} value`} field={`${at}.Split[${j}].Value`} errors={errors}>
                  {(attrs) => (
                    <ValueInput
                      attrs={attrs}
                      flagType={flagType}
                      value={b.value}
                      onChange={(v) =>
                        update((d) => {
                          d.rules[i]!.split[j]!.value = v;
                        })
                      }
                    />
                  )}
                </Field>
                <button
                  type="button"
                  class="secondary"
                  onClick={() => update((d) => void d.rules[i]!.split.splice(j, 1))}
                >
                  Remove bucket {j + 1}
                </button>
              </div>
            ))}
            <button
              type="button"
              class="secondary"
              onClick={() => update((d) => void d.rules[i]!.split.push({ percent: '0', value: { ...rule.value } }))}
            >
              Add bucket
            </button>
            <FieldNote errors={errors} field={`${at}.Split`} />
          </>
        )}
      </fieldset>
      <button type="button" class="secondary" onClick={() => update((d) => void d.rules.splice(i, 1))}>
        Remove rule {i + 1}
      </button>
    </div>
  );
}
