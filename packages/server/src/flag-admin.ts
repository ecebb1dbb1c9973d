import { setTimeout as sleep } from 'node:timers/promises';
import {
  assertFlagName,
  assertProjectName,
  compileFlag,
  compileSegmentFlag,
  EmptyFlagDataException,
  FlagExistsError,
  type FlagMetadata,
  type FlagRef,
  FlagTypeMismatchError,
  flagTypeOf,
  InvalidFlagTypeException,
  InvalidInputError,
  isWTime,
  MAX_INSTANCE_ID_LENGTH,
  ProjectNotFoundError,
  parseFlagMetadata,
  parseFlagType,
  parseRevision,
  parseSegmentRevision,
  type Revision,
  RevisionConflictError,
  type RevisionMetadata,
  RevisionNotFoundError,
  requiredFormatVersion,
  type SegmentLookup,
  type SegmentRevision,
  segmentLookupOf,
  storedFlagType,
  TimeoutError,
  UnavailableError,
  VALUE_FLAG_TYPES,
  type ValueFlagType,
} from '@vexil/core';
import type { AirflowConfig } from '@vexil/core/runbook';
import type { FlagStore, NewRow, StoredRow } from '@vexil/store';
import { ACTOR_FIELDS, type Actor, storeWrittenBy } from './access/actor.js';
import type { ProjectAccess } from './access/project-access.js';
import type { ChangeEvent, ChangeEvents, ChangeEventType } from './change-events.js';
import { REVISION_LINKS } from './changes/change-records.js';
import { type DoctorReport, diagnoseProject } from './doctor.js';
import { parseEvaluationContext } from './evaluation-input.js';
import { type FlagBatch, type FlagBatchResult, writeFlagBatch } from './flag-batch.js';
import { refuseUnusableSegments, type SegmentState, segmentReferences, segmentStateOf } from './segment-references.js';
import {
  type ContextEvaluationView,
  type EvaluationView,
  type FlagView,
  type RevisionView,
  refLabel,
  type SegmentRevisionView,
  type SegmentView,
} from './views.js';

/** Rounds of a change made from the revision in force before a stream of concurrent writes wins (409). */
const CHANGE_ATTEMPTS = 10;

/**
 * The runbook system's management procedures 1–11, written once over any FlagStore.
 * The CLI and the admin API both call these, so they validate and answer alike.
 * Every procedure validates everything before it writes, so bad input changes nothing.
 */

export interface AddFlagInput {
  description?: string | undefined;
}

/**
 * A revision as a caller writes it; Name and Type come from the flag. The flag
 * model's fields (docs/flag-model.md) are optional; core checks them all.
 */
export interface RevisionInput extends ExpectedLatestInput {
  /** A value of the flag's type, or null: "no value, use the caller's default". */
  ControlValue: unknown;
  Treatments?: unknown;
  /** `{name: value}`: names for the revision's values. */
  Variants?: unknown;
  /** Targeting rules, in order; a condition naming a segment the project lacks is refused. */
  Rules?: unknown;
  /** The kill switch: true answers ControlValue with reason DISABLED. */
  Disabled?: unknown;
  /** Free key/values; `owner`, `ticket` and `expires` (YYYY-MM-DD) are known. */
  Metadata?: unknown;
  Comment?: string | undefined;
  OwnerID?: string | undefined;
  HashAlgorithm?: string | undefined;
  /** Defaults to the flag name so two flags' 10 % rollouts pick different users; `null` hashes the bare id. */
  Salt?: string | null | undefined;
  /** At least this; the writer raises it to 2 when the revision uses the flag model (core's requiredFormatVersion). */
  FormatVersion?: number | undefined;
}

/** Who made a change that copies the revision in force (kill switch, metadata, archive), and why. */
/**
 * Optimistic concurrency for every revision write: the WTIME of the revision the
 * caller based the change on (`null`: the flag had none). When another revision was
 * written since, the write is refused with RevisionConflictError (409) and nothing is
 * written. Left out, the write is unconditional.
 */
export interface ExpectedLatestInput {
  expectedLatest?: string | null | undefined;
}

export interface ChangeInput extends ExpectedLatestInput {
  OwnerID?: string | undefined;
  Comment?: string | undefined;
}

/** Metadata edits, as a JSON merge patch: a key with a value sets it, a key with `null` removes it. */
export interface MetadataInput extends ChangeInput {
  Metadata: unknown;
}

export interface RollbackInput extends ExpectedLatestInput {
  /** WTIME of the revision to republish; by default the one before the newest. */
  to?: string | undefined;
  OwnerID?: string | undefined;
  Comment?: string | undefined;
}

export type ArchiveInput = ChangeInput;

export interface ListOptions {
  withRevision?: boolean;
  includeArchived?: boolean;
}

/**
 * A flag named by a caller: a project, a flag type with values (a segment is asked for
 * as a segment, see segmentRef) and a name, each checked by core.
 */
export function flagRef(project: unknown, flagType: unknown, name: unknown): FlagRef {
  assertProjectName(project);
  if (flagType === 'segment') {
    throw new InvalidFlagTypeException(flagType, {
      allowed: VALUE_FLAG_TYPES,
      hint: 'a segment is not a flag: use the segment commands (vexil segment …) or the /segments routes of the admin API',
    });
  }
  const type = parseFlagType(flagType, 'flag_type', VALUE_FLAG_TYPES);
  assertFlagName(name);
  return { project, flagType: type, name };
}

/** A segment named by a caller. */
export function segmentRef(project: unknown, name: unknown): FlagRef {
  assertProjectName(project);
  assertFlagName(name, 'segment_name');
  return { project, flagType: 'segment', name };
}

export interface FlagAdminOptions {
  /** Names the store in "no such project" messages, e.g. `in /srv/vexil.db (sqlite:./vexil.db)`; the API leaves it out. */
  where?: string | undefined;
  /** Who is asking, for the hint of a flag asked for by the wrong type: `-t data` or `flag_type=data`. */
  side?: 'cli' | 'http';
  /** Projects' access settings: a project whose first flag this admin writes gets public evaluation off. */
  projects?: ProjectAccess | undefined;
  /** Where every write is announced (one ChangeEvent per row written); none by default. */
  events?: ChangeEvents | undefined;
  /** The clock of the events' times (ms since the epoch); Date.now by default. */
  now?: (() => number) | undefined;
}

/**
 * What caused a row to be written, for its ChangeEvent: the procedure's event type by
 * default; a schedule, ramp or approval names itself (`subject`) and its own type.
 */
export interface ChangeCause {
  type: ChangeEventType;
  subject?: string | undefined;
  /** Who the change is announced as when it is not the row's writer (a scheduler applying someone's schedule). */
  actor?: string | undefined;
  /** Fields the revision records about its cause (ScheduleID, RampID, ProposalID): history shows them. */
  fields?: Record<string, string> | undefined;
}

/** A row's usual event: a FLAG row is a new flag, a REVISION row a new revision. */
const ROW_CAUSE = (row: StoredRow): ChangeCause => ({
  type: row.kind === 'FLAG' ? 'flag.created' : 'revision.created',
});

export class FlagAdmin {
  private readonly where: string | undefined;
  private readonly side: 'cli' | 'http';
  private readonly options: FlagAdminOptions;

  constructor(
    readonly store: FlagStore,
    options: FlagAdminOptions = {},
  ) {
    this.options = options;
    this.where = options.where;
    this.side = options.side ?? 'cli';
  }

  /**
   * The same procedures, done by `actor`: every row written records it (OwnerID, and a
   * different OwnerID given by the caller as OnBehalfOf; see access/actor.ts), and a
   * project it starts gets its access settings.
   */
  /** Where this admin announces its writes: change management announces its own changes there too. */
  get events(): ChangeEvents | undefined {
    return this.options.events;
  }

  actingAs(actor: Actor): FlagAdmin {
    const projects = this.options.projects;
    const store = storeWrittenBy(this.store, actor, async (rows) => projects?.settleNewProjects(rows, actor));
    return new FlagAdmin(store, this.options);
  }

  /** Refuses a project without flags, naming the projects there are, rather than answering like an empty one. */
  async requireProject(project: string): Promise<void> {
    assertProjectName(project);
    if ((await this.store.listFlags(project)).length === 0) throw await this.projectNotFound(project);
  }

  /** Procedure 1: add a new flag. */
  async addFlag(ref: FlagRef, input: AddFlagInput = {}): Promise<FlagView> {
    refuseSegment(ref);
    const metadata = this.metadataFor(ref, input.description);
    if (await this.store.latest('FLAG', ref)) {
      throw new FlagExistsError(`flag ${refLabel(ref)} already exists; change its description with update-flag`, {
        field: 'flag_name',
      });
    }
    const [row] = await this.appendRows([{ kind: 'FLAG', ref, fields: metadata }]);
    return this.flagView(row!, undefined);
  }

  /** Procedure 4: update an existing flag's metadata (a newer FLAG row). */
  async updateFlag(ref: FlagRef, input: AddFlagInput): Promise<FlagView> {
    const current = await this.requireFlagRow(ref);
    const metadata = withoutActor({ ...this.parseMetadataRow(current), ...this.metadataFor(ref, input.description) });
    delete metadata.CreatedTime;
    const [row] = await this.appendRows([{ kind: 'FLAG', ref, fields: metadata }], () => ({ type: 'flag.updated' }));
    return this.flagView(row!, await this.store.latest('REVISION', ref));
  }

  /** Procedure 5: the flag's newest metadata. */
  async getFlag(ref: FlagRef): Promise<FlagView> {
    const row = await this.requireFlagRow(ref);
    return this.flagView(row, await this.store.latest('REVISION', ref));
  }

  /** Procedures 7 and 8: every flag of a project (segments are listed by listSegments), optionally with its newest revision. */
  async listFlags(project: string, options: ListOptions = {}): Promise<FlagView[]> {
    assertProjectName(project);
    const rows = await this.store.listFlags(project);
    if (rows.length === 0) throw await this.projectNotFound(project);
    const flags = rows.filter((row) => row.ref.flagType !== 'segment');
    const views = await Promise.all(
      flags.map(async (row) => this.flagView(row, await this.store.latest('REVISION', row.ref), options.withRevision)),
    );
    return options.includeArchived ? views : views.filter((view) => !view.archived);
  }

  /**
   * Procedure 2: add a revision; Vexil's own revisions are salted with the flag name.
   * Rules may name only segments the project has (and has not archived). The
   * revision is written as given: without `Metadata` it has none (the CLI carries the
   * metadata in force over; see updateMetadata to change it alone).
   */
  async addRevision(ref: FlagRef, input: RevisionInput, cause?: ChangeCause): Promise<RevisionView> {
    const revision = { ...(await this.draftRevision(ref, input)), ...cause?.fields };
    return this.appendRevision(
      ref,
      revision,
      input.expectedLatest,
      cause ?? { type: 'revision.created' },
    ) as Promise<RevisionView>;
  }

  /**
   * What addRevision checks, with the same errors, writing nothing: the revision it
   * would write (for previews of a draft).
   */
  async draftRevision(ref: FlagRef, input: RevisionInput): Promise<Revision> {
    refuseSegment(ref);
    const revision = this.revisionFromInput(ref, input);
    await this.requireFlagRow(ref);
    await this.refuseUnusableSegments(ref.project, revision);
    return revision;
  }

  /** Procedure 6: the revision in force. */
  async latestRevision(ref: FlagRef): Promise<RevisionView> {
    await this.requireFlagRow(ref);
    const row = await this.store.latest('REVISION', ref);
    if (!row) throw noRevision(ref);
    return this.revisionView(row) as RevisionView;
  }

  /** Procedure 9: the revision history, newest first (a segment's too). */
  async history(ref: FlagRef, limit?: number): Promise<RevisionView[]> {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new InvalidInputError(`limit must be a whole number of at least 1, got ${limit}`, { field: 'limit' });
    }
    await this.requireFlagRow(ref);
    const rows = await this.store.history('REVISION', ref, limit === undefined ? {} : { limit });
    return rows.map((row) => this.revisionView(row, 'lenient') as RevisionView);
  }

  /**
   * Procedure 3 in one step: republish an earlier revision as a new revision that
   * names its source in `RollbackOf`. History is never edited. Segments roll back alike.
   */
  async rollback(ref: FlagRef, input: RollbackInput = {}, cause?: ChangeCause): Promise<RevisionView> {
    await this.requireFlagRow(ref);
    return this.changeInForce(ref, input, cause ?? { type: 'revision.rolled_back' }, async () => {
      const change = await this.rollbackRevision(ref, input);
      return { ...change, revision: { ...change.revision, ...cause?.fields } };
    });
  }

  private async rollbackRevision(
    ref: FlagRef,
    input: RollbackInput,
  ): Promise<{ revision: Revision | SegmentRevision; basedOn: string | null }> {
    let source: StoredRow | undefined;
    let basedOn: string | null;
    if (input.to !== undefined) {
      source = await this.requireRevisionRow(ref, input.to, 'to');
      basedOn = (await this.store.latest('REVISION', ref))?.wtime ?? null;
    } else {
      const [newest, previous] = await this.store.history('REVISION', ref, { limit: 2 });
      basedOn = newest?.wtime ?? null;
      if (!previous) {
        throw new RevisionNotFoundError(`${kindOf(ref)} ${refLabel(ref)} has no earlier revision to roll back to`, {
          field: 'to',
        });
      }
      source = previous;
    }
    const old = this.parseRevisionRow(source);
    const revision: Revision | SegmentRevision = { ...old, RollbackOf: source.wtime };
    delete revision.CreatedTime;
    delete revision.Archived;
    revision.Comment = input.Comment ?? `Rollback to ${source.wtime}${old.Comment ? ` (${old.Comment})` : ''}`;
    // The caller made this revision: the copied revision's owner (and schedule, ramp, proposal) did not.
    for (const field of [...Object.values(ACTOR_FIELDS), ...Object.values(REVISION_LINKS)]) delete revision[field];
    if (input.OwnerID !== undefined) revision.OwnerID = input.OwnerID;
    return { revision, basedOn };
  }

  /** One revision by its WTIME, as history lists it (shown as stored, like history). */
  async getRevision(ref: FlagRef, wtime: string): Promise<RevisionView> {
    await this.requireFlagRow(ref);
    return this.revisionView(await this.requireRevisionRow(ref, wtime, 'wtime'), 'lenient') as RevisionView;
  }

  /** What the runbook system lacked (procedures 10, 11): archive by a revision; history stays. Segments archive alike. */
  async archive(ref: FlagRef, input: ArchiveInput = {}): Promise<RevisionView> {
    await this.requireFlagRow(ref);
    return this.changeInForce(ref, input, { type: 'flag.archived' }, async () => {
      const latest = await this.store.latest('REVISION', ref);
      const base: Revision | SegmentRevision = latest ? this.parseRevisionRow(latest) : emptyRevision(ref);
      if (base.Archived === true) {
        throw new InvalidInputError(`${kindOf(ref)} ${refLabel(ref)} is already archived; roll back to restore it`, {
          field: ref.flagType === 'segment' ? 'segment_name' : 'flag_name',
        });
      }
      const revision = this.copyForChange(base, input, input.Comment ?? 'Archived');
      revision.Archived = true;
      return { revision, basedOn: latest?.wtime ?? null };
    });
  }

  /**
   * The kill switch: a new revision, a copy of the one in force with `Disabled: true`
   * (`disabled` false: without it), recorded as the caller's. It copies the rules as
   * they are, so a flag can always be switched off, whatever its segments became.
   */
  async setDisabled(ref: FlagRef, disabled: boolean, input: ChangeInput = {}): Promise<RevisionView> {
    return this.changeInForce(ref, input, { type: disabled ? 'flag.disabled' : 'flag.enabled' }, async () => {
      const { revision: old, wtime } = await this.revisionInForce(ref, disabled ? 'disable' : 'enable');
      if ((old.Disabled === true) === disabled) {
        throw new InvalidInputError(
          `flag ${refLabel(ref)} is already ${disabled ? 'disabled' : 'enabled'}; nothing was written`,
          { field: 'Disabled' },
        );
      }
      const revision = this.copyForChange(
        old,
        input,
        input.Comment ?? (disabled ? 'Disabled (kill switch)' : 'Enabled'),
      );
      if (disabled) revision.Disabled = true;
      else delete revision.Disabled;
      return { revision: this.withFormatVersion(revision), basedOn: wtime };
    });
  }

  /**
   * Edits the flag's `Metadata` as a new revision (a copy of the one in force): each
   * key of `input.Metadata` with a value sets it, each with `null` removes it (a JSON
   * merge patch). Core checks the result (keys, values, `expires` as a date).
   */
  async updateMetadata(ref: FlagRef, input: MetadataInput): Promise<RevisionView> {
    const patch = input.Metadata;
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new InvalidInputError(
        'Metadata must be an object of keys to set (a string, number or boolean) or to remove (null)',
        { field: 'Metadata' },
      );
    }
    const entries = Object.entries(patch as Record<string, unknown>);
    if (entries.length === 0) {
      throw new InvalidInputError('Metadata is empty: name at least one key to set or remove (null)', {
        field: 'Metadata',
      });
    }
    return this.changeInForce(ref, input, { type: 'flag.metadata_updated' }, async () => {
      const { revision: old, wtime } = await this.revisionInForce(ref, 'edit the metadata of');
      const metadata: Record<string, unknown> = { ...(old.Metadata ?? {}) };
      for (const [key, value] of entries) {
        if (value === null) delete metadata[key];
        else metadata[key] = value;
      }
      const set = entries.filter(([, value]) => value !== null).map(([key]) => key);
      const removed = entries.filter(([, value]) => value === null).map(([key]) => key);
      const summary = [
        set.length > 0 ? `set ${set.join(', ')}` : '',
        removed.length > 0 ? `removed ${removed.join(', ')}` : '',
      ]
        .filter((part) => part !== '')
        .join('; ');
      const revision = this.copyForChange(old, input, input.Comment ?? `Metadata: ${summary}`) as Revision;
      if (Object.keys(metadata).length === 0) delete revision.Metadata;
      else revision.Metadata = metadata as RevisionMetadata;
      const checked = parseRevision(this.withFormatVersion(revision), {
        mode: 'input',
        flagType: ref.flagType,
        name: ref.name,
      });
      return { revision: checked, basedOn: wtime };
    });
  }

  /** `vexil doctor`: every row of a project that does not validate, with its key, and what to clean up. */
  async doctor(project: string, now = Date.now()): Promise<DoctorReport> {
    const report = await diagnoseProject(this.store, project, now);
    if (report.rowsChecked === 0) throw await this.projectNotFound(project);
    return report;
  }

  /** Evaluates the flag's newest revision for one instance id (the context `{targetingKey: instanceId}`). */
  async evaluate(ref: FlagRef, instanceId: string): Promise<EvaluationView> {
    if (typeof instanceId !== 'string' || instanceId === '') {
      throw new InvalidInputError('instance_id is required: the id to bucket, e.g. a user id', {
        field: 'instance_id',
      });
    }
    if (instanceId.length > MAX_INSTANCE_ID_LENGTH) {
      throw new InvalidInputError(`instance_id is longer than ${MAX_INSTANCE_ID_LENGTH} characters`, {
        field: 'instance_id',
      });
    }
    const { value, group, revision } = await this.evaluateContext(ref, { targetingKey: instanceId });
    return { ...ref, instanceId, value, group, revision };
  }

  /**
   * Evaluates the flag's newest revision for a whole evaluation context: rules see its
   * attributes, and the segments they name are read from the store.
   */
  async evaluateContext(ref: FlagRef, context: unknown): Promise<ContextEvaluationView> {
    refuseSegment(ref);
    const checked = parseEvaluationContext(context);
    await this.requireFlagRow(ref);
    const row = await this.store.latest('REVISION', ref);
    if (!row) throw noRevision(ref);
    // Checked and evaluated as the service does (an archived flag throws its EmptyFlagDataException).
    const flag = compileFlag({ flagType: ref.flagType, name: ref.name, revision: row.fields });
    if (flag.state === 'invalid') throw flag.error;
    const segments = await this.segmentLookup(ref.project, flag.compiled.segmentNames);
    const result = flag.compiled.evaluateContext(checked, segments);
    return {
      ...ref,
      context: checked,
      value: result.value,
      group: result.group,
      reason: result.reason,
      variant: result.variant,
      revision: row.wtime,
    };
  }

  /**
   * `vexil apply`: the runbook system's Airflow configs, written exactly as its job
   * wrote them (no Salt added). All configs are checked first, each against the
   * store plus the configs before it, and then written: in one batch where the
   * store's batches are atomic (all or none), else one row at a time, in order, so
   * that a failure can say which configs were written (see applyGuarantee).
   * `names` label the configs in messages (file names); `config N` by default.
   */
  async apply(configs: readonly AirflowConfig[], names?: readonly string[]): Promise<StoredRow[]> {
    const known = new Set<string>();
    const rows: NewRow[] = [];
    /** FLAG rows of flags the store already had: their events say updated, not created. */
    const existing = new Set<NewRow>();
    for (const config of configs) {
      const { ref, kind, cell } = config;
      const context = { mode: 'input' as const, flagType: ref.flagType, name: ref.name, path: 'row_cell_value' };
      if (kind === 'FLAG') {
        const row: NewRow = { kind, ref, fields: parseFlagMetadata(cell, context) };
        if (known.has(refLabel(ref)) || (await this.store.latest('FLAG', ref))) existing.add(row);
        rows.push(row);
        known.add(refLabel(ref));
        continue;
      }
      const revision = parseRevision(cell, context);
      if (!known.has(refLabel(ref))) {
        // A new project's configs add its flags first: the flag is what is missing, not the project.
        await this.requireFlagRow(ref, false);
        known.add(refLabel(ref));
      }
      await this.refuseUnusableSegments(ref.project, revision, 'row_cell_value');
      rows.push({ kind, ref, fields: revision });
    }
    const causeOf = (_row: StoredRow, index: number): ChangeCause =>
      existing.has(rows[index]!) ? { type: 'flag.updated' } : ROW_CAUSE(rows[index] as StoredRow);
    if (this.store.capabilities.atomicBatch) return this.appendRows(rows, causeOf);
    const stored: StoredRow[] = [];
    for (const [index, row] of rows.entries()) {
      try {
        stored.push(...(await this.appendRows([row], (written) => causeOf(written, index))));
      } catch (error) {
        throw partlyApplied(error, stored.length, rows.length, (i) => names?.[i] ?? `config ${i + 1}`);
      }
    }
    return stored;
  }

  /** What `apply` promises on this store, for people: read from the store's capabilities. */
  get applyGuarantee(): string {
    return this.store.capabilities.atomicBatch
      ? 'all files or none'
      : `the ${this.store.engine} store has no atomic batches: apply writes the files one row at a time, in order; ` +
          'on failure, the rows already written stay, and the error names them';
  }

  /**
   * Writes a whole set of flags and segments of one project (an import, `vexil import
   * flagd`): every flag and segment is checked first — names, revisions, the segments
   * rules name (in the set or the store), flags that exist already — and then all rows
   * are appended in one atomic batch, or none (see flag-batch.ts).
   */
  async writeBatch(batch: FlagBatch): Promise<FlagBatchResult> {
    return writeFlagBatch(this, batch);
  }

  // ------------------------------------------------------------ segments

  /** Adds a segment: its FLAG row (name, description) and its first revision, in one append. */
  async addSegment(ref: FlagRef, input: SegmentInput = {}): Promise<SegmentView> {
    requireSegment(ref);
    const metadata = this.metadataFor(ref, input.description);
    const revision = segmentFromInput(ref, input, undefined);
    if (await this.store.latest('FLAG', ref)) {
      throw new FlagExistsError(
        `segment ${ref.name} already exists in project ${ref.project}; change it with: vexil segment update ${ref.name} -p ${ref.project}`,
        { field: 'segment_name' },
      );
    }
    const [flag, row] = await this.appendRows([
      { kind: 'FLAG', ref, fields: metadata },
      { kind: 'REVISION', ref, fields: revision },
    ]);
    return this.segmentView(flag!, row);
  }

  /**
   * Changes a segment as a new revision: the parts given replace the ones in force
   * (an empty list clears one; the rest are kept). A new description is a newer FLAG row.
   */
  async updateSegment(ref: FlagRef, input: SegmentInput): Promise<SegmentView> {
    requireSegment(ref);
    const changes = (['Included', 'Excluded', 'Conditions'] as const).filter((part) => input[part] !== undefined);
    if (changes.length === 0 && input.description === undefined) {
      throw new InvalidInputError(
        'nothing to change: give the segment new Included or Excluded ids, Conditions or a description',
        { field: 'Conditions' },
      );
    }
    const flagRow = await this.requireFlagRow(ref);
    const latest = await this.store.latest('REVISION', ref);
    // The stored fields, not parsed: a segment whose revision no longer validates is fixed
    // by an update that replaces the broken part (the result is checked whole).
    const base = latest ? (latest.fields as unknown as SegmentRevision) : undefined;
    if (base?.Archived === true) {
      throw new InvalidInputError(`segment ${refLabel(ref)} is archived; roll back to restore it before changing it`, {
        field: 'segment_name',
      });
    }
    const rows: NewRow[] = [];
    if (input.description !== undefined) {
      const metadata = withoutActor({ ...this.parseMetadataRow(flagRow), ...this.metadataFor(ref, input.description) });
      delete metadata.CreatedTime;
      rows.push({ kind: 'FLAG', ref, fields: metadata });
    }
    if (changes.length > 0 || base === undefined) {
      rows.push({ kind: 'REVISION', ref, fields: segmentFromInput(ref, input, base) });
    }
    const stored = await this.appendRows(rows, (row) => ({
      type: row.kind === 'FLAG' ? 'flag.updated' : 'revision.created',
    }));
    const newFlag = stored.find((row) => row.kind === 'FLAG') ?? flagRow;
    return this.segmentView(newFlag, stored.find((row) => row.kind === 'REVISION') ?? latest);
  }

  /** A segment's description and the revision in force. */
  async getSegment(ref: FlagRef): Promise<SegmentView> {
    requireSegment(ref);
    const row = await this.requireFlagRow(ref);
    return this.segmentView(row, await this.store.latest('REVISION', ref));
  }

  /** The segments of a project, by name; archived ones only when asked. */
  async listSegments(project: string, options: { includeArchived?: boolean } = {}): Promise<SegmentView[]> {
    assertProjectName(project);
    const rows = await this.store.listFlags(project);
    if (rows.length === 0) throw await this.projectNotFound(project);
    const views = await Promise.all(
      rows
        .filter((row) => row.ref.flagType === 'segment')
        .map(async (row) => this.segmentView(row, await this.store.latest('REVISION', row.ref))),
    );
    return options.includeArchived ? views : views.filter((view) => !view.archived);
  }

  /** A segment's revisions, newest first. */
  async segmentHistory(ref: FlagRef, limit?: number): Promise<SegmentRevisionView[]> {
    requireSegment(ref);
    return (await this.history(ref, limit)) as unknown as SegmentRevisionView[];
  }

  /** A segment's revision in force. */
  async latestSegmentRevision(ref: FlagRef): Promise<SegmentRevisionView> {
    requireSegment(ref);
    return (await this.latestRevision(ref)) as unknown as SegmentRevisionView;
  }

  /** One of a segment's revisions, by its WTIME. */
  async getSegmentRevision(ref: FlagRef, wtime: string): Promise<SegmentRevisionView> {
    requireSegment(ref);
    return (await this.getRevision(ref, wtime)) as unknown as SegmentRevisionView;
  }

  /** Republishes an earlier revision of a segment (by default the one before the newest). */
  async rollbackSegment(ref: FlagRef, input: RollbackInput = {}): Promise<SegmentRevisionView> {
    requireSegment(ref);
    return (await this.rollback(ref, input)) as unknown as SegmentRevisionView;
  }

  /** Archives a segment: it has no members from now on; rules naming it stop matching (vexil doctor reports them). */
  async archiveSegment(ref: FlagRef, input: ArchiveInput = {}): Promise<SegmentRevisionView> {
    requireSegment(ref);
    return (await this.archive(ref, input)) as unknown as SegmentRevisionView;
  }

  // ------------------------------------------------------------ shared with flag-batch.ts

  /**
   * A revision from a caller's input, checked by core (nothing read from the store):
   * salted with the flag name unless told otherwise, its FormatVersion set by core's rule.
   * @internal
   */
  revisionFromInput(ref: FlagRef, input: RevisionInput): Revision {
    const fields: Record<string, unknown> = {
      Name: ref.name,
      Type: storedFlagType(ref.flagType),
      FormatVersion: input.FormatVersion ?? 1,
      ControlValue: input.ControlValue,
      Treatments: input.Treatments ?? [],
    };
    for (const field of ['Variants', 'Rules', 'Disabled', 'Metadata', 'Comment', 'OwnerID', 'HashAlgorithm'] as const) {
      if (input[field] !== undefined) fields[field] = input[field];
    }
    if (input.Salt !== null) fields.Salt = input.Salt ?? ref.name;
    const context = { mode: 'input' as const, flagType: ref.flagType, name: ref.name };
    // Checked as given first, so a bad FormatVersion is reported as the caller's.
    const revision = parseRevision(fields, context);
    return this.withFormatVersion(revision);
  }

  /** A FLAG row for `ref`, checked by core. @internal */
  metadataFor(ref: FlagRef, description: string | undefined): FlagMetadata {
    const fields: Record<string, unknown> = { Name: ref.name, Type: storedFlagType(ref.flagType) };
    if (description !== undefined) fields.Description = description;
    return parseFlagMetadata(fields, { mode: 'input', flagType: ref.flagType, name: ref.name });
  }

  /** Whether a project's segment can be named by a rule (see segment-references.ts). @internal */
  async segmentState(project: string, name: string): Promise<SegmentState> {
    const ref: FlagRef = { project, flagType: 'segment', name };
    const hasFlagRow = (await this.store.latest('FLAG', ref)) !== undefined;
    return segmentStateOf(
      name,
      hasFlagRow,
      hasFlagRow ? (await this.store.latest('REVISION', ref))?.fields : undefined,
    );
  }

  // ------------------------------------------------------------ internals

  /** Sets FormatVersion by core's rule, never below what the revision says (a caller may ask for more). */
  private withFormatVersion<T extends Revision | SegmentRevision>(revision: T): T {
    const floor = Number.isInteger(revision.FormatVersion) && revision.FormatVersion > 2 ? revision.FormatVersion : 1;
    return { ...revision, FormatVersion: Math.max(floor, requiredFormatVersion(revision)) };
  }

  private async refuseUnusableSegments(project: string, revision: Revision, path?: string): Promise<void> {
    const references = segmentReferences(revision).map((reference) =>
      path === undefined ? reference : { ...reference, field: `${path}.${reference.field}` },
    );
    await refuseUnusableSegments(project, references, (name) => this.segmentState(project, name));
  }

  /** The project's segments that `names` name, compiled; a segment missing or invalid is unknown to the lookup. */
  /** The project's segments `names` as evaluation finds them: their newest revisions, compiled. */
  async segmentLookup(project: string, names: readonly string[]): Promise<SegmentLookup> {
    const entries = await Promise.all(
      names.map(async (name) => {
        const row = await this.store.latest('REVISION', { project, flagType: 'segment', name });
        return row && compileSegmentFlag({ flagType: 'segment', name, revision: row.fields });
      }),
    );
    return segmentLookupOf(entries.filter((entry) => entry !== undefined));
  }

  /** The newest revision of a flag, which a change copies: it must exist and not be archived. */
  private async revisionInForce(ref: FlagRef, what: string): Promise<{ revision: Revision; wtime: string }> {
    refuseSegment(ref);
    await this.requireFlagRow(ref);
    const latest = await this.store.latest('REVISION', ref);
    if (!latest) throw noRevision(ref);
    const old = this.parseRevisionRow(latest) as Revision;
    if (old.Archived === true) {
      throw new InvalidInputError(`flag ${refLabel(ref)} is archived; roll back to restore it before you ${what} it`, {
        field: 'flag_name',
      });
    }
    return { revision: old, wtime: latest.wtime };
  }

  /** A copy of a stored revision for a new one: its time, source and owner are the new revision's own. */
  private copyForChange<T extends Revision | SegmentRevision>(base: T, input: ChangeInput, comment: string): T {
    const revision: Record<string, unknown> = { ...base, Comment: comment };
    delete revision.CreatedTime;
    delete revision.RollbackOf;
    // The caller made the change: the owner (and schedule, ramp, proposal) of the revision it copies did not.
    for (const field of [...Object.values(ACTOR_FIELDS), ...Object.values(REVISION_LINKS)]) delete revision[field];
    if (input.OwnerID !== undefined) revision.OwnerID = input.OwnerID;
    return revision as T;
  }

  private async appendRevision(
    ref: FlagRef,
    revision: Revision | SegmentRevision,
    expectedLatest: string | null | undefined,
    cause: ChangeCause,
  ): Promise<RevisionView | SegmentRevisionView> {
    const [row] = await this.appendRows(
      [{ kind: 'REVISION', ref, fields: revision, ...(expectedLatest === undefined ? {} : { expectedLatest }) }],
      () => cause,
    );
    return this.revisionView(row!);
  }

  /**
   * Every write of FlagAdmin (and of flag-batch.ts) goes through here: the rows are
   * appended, then each is announced as one ChangeEvent (nothing is announced when the
   * append fails). @internal
   */
  async appendRows(
    rows: readonly NewRow[],
    causeOf: (row: StoredRow, index: number) => ChangeCause = ROW_CAUSE,
  ): Promise<StoredRow[]> {
    const stored = await this.store.append(rows);
    const events = this.options.events;
    if (events !== undefined) {
      const time = new Date((this.options.now ?? Date.now)()).toISOString();
      for (const [index, row] of stored.entries()) events.emit(changeEventOf(row, causeOf(row, index), time));
    }
    return stored;
  }

  /**
   * A change made from the revision in force (rollback, archive, kill switch,
   * metadata) is written on condition that no other revision landed since it was
   * read, so a concurrent write is never silently undone: the change is made again
   * from the newer revision. A caller that named its own `expectedLatest` gets the
   * conflict instead, to resolve it.
   */
  private async changeInForce(
    ref: FlagRef,
    input: ExpectedLatestInput,
    cause: ChangeCause,
    change: () => Promise<{ revision: Revision | SegmentRevision; basedOn: string | null }>,
  ): Promise<RevisionView> {
    for (let attempt = 1; ; attempt++) {
      const { revision, basedOn } = await change();
      const expected = input.expectedLatest !== undefined ? input.expectedLatest : basedOn;
      try {
        return (await this.appendRevision(ref, revision, expected, cause)) as RevisionView;
      } catch (error) {
        if (!(error instanceof RevisionConflictError) || input.expectedLatest !== undefined) throw error;
        if (attempt >= CHANGE_ATTEMPTS) throw error;
        // Jittered, so writers that lost together do not collide again in lockstep.
        await sleep(Math.random() * 5 * attempt);
      }
    }
  }

  /**
   * The flag's (or segment's) newest FLAG row. A missing flag is explained: it exists
   * with another type, or (unless `checkProject` is false) its project does not exist.
   */
  private async requireFlagRow(ref: FlagRef, checkProject = true): Promise<StoredRow> {
    const row = await this.store.latest('FLAG', ref);
    if (row) return row;
    if (ref.flagType === 'segment') {
      if (checkProject) await this.requireProject(ref.project);
      throw new EmptyFlagDataException(
        `segment ${ref.name} does not exist in project ${ref.project}; create it with: vexil segment create ${ref.name} -p ${ref.project}`,
        { field: 'segment_name' },
      );
    }
    for (const other of VALUE_FLAG_TYPES) {
      if (other !== ref.flagType && (await this.store.latest('FLAG', { ...ref, flagType: other }))) {
        throw new FlagTypeMismatchError(ref.name, ref.flagType, other, this.side);
      }
    }
    if (checkProject) await this.requireProject(ref.project);
    throw new EmptyFlagDataException(
      `flag ${refLabel(ref)} does not exist; add it first with: vexil add-flag ${ref.name} -p ${ref.project} -t ${ref.flagType}`,
      { field: 'flag_name' },
    );
  }

  /** The revision written at `wtime`; `field` names the caller's parameter in errors. */
  private async requireRevisionRow(ref: FlagRef, wtime: string, field: string): Promise<StoredRow> {
    if (!isWTime(wtime)) {
      throw new InvalidInputError(
        `${field} ${JSON.stringify(wtime)} is not a revision time: copy one from the history (YYYY-MM-DD HH:MM:SS.ffffff)`,
        { field },
      );
    }
    const row = await this.store.get('REVISION', ref, wtime);
    if (!row) {
      const history =
        ref.flagType === 'segment'
          ? `vexil segment history ${ref.name} -p ${ref.project}`
          : `vexil history ${ref.name} -p ${ref.project} -t ${ref.flagType}`;
      throw new RevisionNotFoundError(
        `${kindOf(ref)} ${refLabel(ref)} has no revision at ${wtime}; list them with: ${history}`,
        { field },
      );
    }
    return row;
  }

  private async projectNotFound(project: string): Promise<ProjectNotFoundError> {
    return new ProjectNotFoundError(project, await this.store.listProjects(), this.where);
  }

  private parseMetadataRow(row: StoredRow): FlagMetadata {
    return parseFlagMetadata(row.fields, { mode: 'stored', flagType: row.ref.flagType, name: row.ref.name });
  }

  private parseRevisionRow(row: StoredRow): Revision | SegmentRevision {
    const context = { mode: 'stored' as const, flagType: row.ref.flagType, name: row.ref.name };
    return row.ref.flagType === 'segment'
      ? parseSegmentRevision(row.fields, context)
      : parseRevision(row.fields, context);
  }

  /** History shows rows that no longer validate as they are, so `lenient` skips the check. */
  private revisionView(row: StoredRow, mode: 'strict' | 'lenient' = 'strict'): RevisionView | SegmentRevisionView {
    const revision = mode === 'strict' ? this.parseRevisionRow(row) : (row.fields as Revision);
    return {
      project: row.ref.project,
      flagType: row.ref.flagType,
      name: row.ref.name,
      wtime: row.wtime,
      revision,
    } as RevisionView | SegmentRevisionView;
  }

  private flagView(row: StoredRow, revisionRow: StoredRow | undefined, withRevision = true): FlagView {
    const metadata = this.parseMetadataRow(row);
    const latest = revisionRow ? (this.revisionView(revisionRow, 'lenient') as RevisionView) : undefined;
    return {
      project: row.ref.project,
      flagType: flagTypeOf(metadata.Type),
      name: row.ref.name,
      wtime: row.wtime,
      metadata,
      archived: latest?.revision.Archived === true,
      latestRevision: withRevision ? latest : undefined,
    };
  }

  private segmentView(row: StoredRow, revisionRow: StoredRow | undefined): SegmentView {
    const metadata = this.parseMetadataRow(row);
    const latest = revisionRow ? (this.revisionView(revisionRow, 'lenient') as SegmentRevisionView) : undefined;
    const view: SegmentView = {
      project: row.ref.project,
      name: row.ref.name,
      wtime: row.wtime,
      archived: latest?.revision.Archived === true,
      latestRevision: latest,
    };
    if (metadata.Description !== undefined) view.description = metadata.Description;
    return view;
  }
}

/** What a segment is given: its audience, and who changed it. Core checks the parts. */
export interface SegmentInput {
  /** What the segment is (its FLAG row's Description). */
  description?: string | undefined;
  /** Targeting keys always in the segment (unless excluded). */
  Included?: unknown;
  /** Targeting keys never in the segment. */
  Excluded?: unknown;
  /** Conditions that all hold for the other members; segment operators are not allowed. */
  Conditions?: unknown;
  OwnerID?: string | undefined;
  Comment?: string | undefined;
}

/**
 * A segment revision from a caller's input over `base` (the one in force, when
 * updating): the parts given replace the base's, `null` removes one. @internal
 */
export function segmentFromInput(
  ref: FlagRef,
  input: SegmentInput,
  base: SegmentRevision | undefined,
): SegmentRevision {
  const fields: Record<string, unknown> = base ? { ...base } : { Name: ref.name, Type: 'SEGMENT', FormatVersion: 2 };
  for (const field of ['CreatedTime', 'RollbackOf', 'Archived', 'Comment', ...Object.values(ACTOR_FIELDS)]) {
    delete fields[field];
  }
  for (const part of ['Included', 'Excluded', 'Conditions'] as const) {
    if (input[part] === null) delete fields[part];
    else if (input[part] !== undefined) fields[part] = input[part];
  }
  if (input.Comment !== undefined) fields.Comment = input.Comment;
  if (input.OwnerID !== undefined) fields.OwnerID = input.OwnerID;
  const segment = parseSegmentRevision(fields, { mode: 'input', flagType: 'segment', name: ref.name });
  return { ...segment, FormatVersion: Math.max(segment.FormatVersion, requiredFormatVersion(segment)) };
}

/** The event of a row FlagAdmin wrote: its writer is the row's recorded owner (see access/actor.ts). */
function changeEventOf(row: StoredRow, cause: ChangeCause, time: string): ChangeEvent {
  const fields = row.fields as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const event: ChangeEvent = {
    type: cause.type,
    time,
    project: row.ref.project,
    flagType: row.ref.flagType,
    flag: row.ref.name,
    wtime: row.wtime,
    actor: cause.actor ?? text(fields[ACTOR_FIELDS.owner]) ?? 'unknown',
  };
  const tokenId = text(fields[ACTOR_FIELDS.tokenId]);
  if (tokenId !== undefined && cause.actor === undefined) event.tokenId = tokenId;
  if (cause.subject !== undefined) event.subject = cause.subject;
  const comment = text(fields.Comment);
  if (comment !== undefined) event.detail = comment;
  return event;
}

/** A copied FLAG row without who wrote the copy's source: the new row records its own writer. */
function withoutActor<T extends Record<string, unknown>>(metadata: T): T {
  for (const field of Object.values(ACTOR_FIELDS)) delete metadata[field];
  return metadata;
}

/** "flag" or "segment", for messages. */
function kindOf(ref: FlagRef): 'flag' | 'segment' {
  return ref.flagType === 'segment' ? 'segment' : 'flag';
}

function refuseSegment(ref: FlagRef): asserts ref is FlagRef & { flagType: ValueFlagType } {
  if (ref.flagType === 'segment') {
    throw new InvalidFlagTypeException(ref.flagType, {
      allowed: VALUE_FLAG_TYPES,
      hint: 'a segment is not a flag: use the segment commands (vexil segment …) or the /segments routes of the admin API',
    });
  }
}

function requireSegment(ref: FlagRef): void {
  if (ref.flagType !== 'segment') {
    throw new InvalidInputError(`${refLabel(ref)} is a flag, not a segment`, { field: 'flag_type' });
  }
}

/** The revision an archive copies when a flag has none yet: nobody targeted, the flag type's plainest value. */
function emptyRevision(ref: FlagRef): Revision | SegmentRevision {
  const common = { Name: ref.name, Type: storedFlagType(ref.flagType) };
  switch (ref.flagType) {
    case 'segment':
      return { ...common, Type: 'SEGMENT', FormatVersion: 2 };
    case 'feature':
      return { ...common, FormatVersion: 1, ControlValue: false, Treatments: [] };
    case 'data':
      return { ...common, FormatVersion: 1, ControlValue: '', Treatments: [] };
    default:
      // No value of a number or json flag is plainer than another: "the caller's default".
      return { ...common, FormatVersion: 2, ControlValue: null, Treatments: [] };
  }
}

function noRevision(ref: FlagRef): EmptyFlagDataException {
  if (ref.flagType === 'segment') {
    return new EmptyFlagDataException(
      `segment ${refLabel(ref)} has no revision yet; give it one with: vexil segment update ${ref.name} -p ${ref.project}`,
      { field: 'segment_name' },
    );
  }
  return new EmptyFlagDataException(
    `flag ${refLabel(ref)} has no revision yet; add one with: vexil add-revision ${ref.name} -p ${ref.project} -t ${ref.flagType}`,
    { field: 'flag_name' },
  );
}

/**
 * The error of an apply that stopped after writing `written` of `total` rows (stores
 * without atomic batches): the cause's message and kind, and what was written.
 */
function partlyApplied(error: unknown, written: number, total: number, name: (index: number) => string): unknown {
  if (written === 0) return error;
  const done = written === 1 ? name(0) : `${name(0)} ${written === 2 ? 'and' : 'to'} ${name(written - 1)}`;
  const message =
    `${error instanceof Error ? error.message : String(error)}; ` +
    `apply stopped at ${name(written)} (${written + 1} of ${total}): ${done} ${written === 1 ? 'was' : 'were'} written and stay ` +
    '(this store has no atomic batches)';
  const options = {
    hint: `once the cause is fixed, apply the files from ${name(written)} on; applying ${done} again would add ${written === 1 ? 'its row' : 'their rows'} a second time`,
    cause: error,
  };
  if (error instanceof TimeoutError) return new TimeoutError(message, options);
  if (error instanceof InvalidInputError) return new InvalidInputError(message, { ...options, field: error.field });
  return new UnavailableError(message, options);
}
