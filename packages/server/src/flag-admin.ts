import {
  assertFlagName,
  assertProjectName,
  compileFlag,
  EmptyFlagDataException,
  FlagExistsError,
  type FlagMetadata,
  type FlagRef,
  FlagTypeMismatchError,
  flagTypeOf,
  InvalidInputError,
  isWTime,
  MAX_INSTANCE_ID_LENGTH,
  ProjectNotFoundError,
  parseFlagMetadata,
  parseFlagType,
  parseRevision,
  type Revision,
  RevisionNotFoundError,
  storedFlagType,
  TimeoutError,
  UnavailableError,
} from '@vexil/core';
import type { AirflowConfig } from '@vexil/core/runbook';
import type { FlagStore, NewRow, StoredRow } from '@vexil/store';
import { type DoctorReport, diagnoseProject } from './doctor.js';
import { type EvaluationView, type FlagView, type RevisionView, refLabel } from './views.js';

/**
 * The runbook system's management procedures 1–11, written once over any FlagStore.
 * The CLI and the admin API both call these, so they validate and answer alike.
 * Every procedure validates everything before it writes, so bad input changes nothing.
 */
export interface AddFlagInput {
  description?: string | undefined;
}

/** A revision as a caller writes it; Name and Type come from the flag. */
export interface RevisionInput {
  ControlValue: unknown;
  Treatments?: unknown;
  Comment?: string | undefined;
  OwnerID?: string | undefined;
  HashAlgorithm?: string | undefined;
  /** Defaults to the flag name so two flags' 10 % rollouts pick different users; `null` hashes the bare id. */
  Salt?: string | null | undefined;
  FormatVersion?: number | undefined;
}

export interface RollbackInput {
  /** WTIME of the revision to republish; by default the one before the newest. */
  to?: string | undefined;
  OwnerID?: string | undefined;
  Comment?: string | undefined;
}

export interface ArchiveInput {
  OwnerID?: string | undefined;
  Comment?: string | undefined;
}

export interface ListOptions {
  withRevision?: boolean;
  includeArchived?: boolean;
}

export function flagRef(project: unknown, flagType: unknown, name: unknown): FlagRef {
  assertProjectName(project);
  const type = parseFlagType(flagType);
  assertFlagName(name);
  return { project, flagType: type, name };
}

export interface FlagAdminOptions {
  /** Names the store in "no such project" messages, e.g. `in /srv/vexil.db (sqlite:./vexil.db)`; the API leaves it out. */
  where?: string | undefined;
  /** Who is asking, for the hint of a flag asked for by the wrong type: `-t data` or `flag_type=data`. */
  side?: 'cli' | 'http';
}

export class FlagAdmin {
  private readonly where: string | undefined;
  private readonly side: 'cli' | 'http';

  constructor(
    readonly store: FlagStore,
    options: FlagAdminOptions = {},
  ) {
    this.where = options.where;
    this.side = options.side ?? 'cli';
  }

  /** Refuses a project without flags, naming the projects there are, rather than answering like an empty one. */
  async requireProject(project: string): Promise<void> {
    assertProjectName(project);
    if ((await this.store.listFlags(project)).length === 0) throw await this.projectNotFound(project);
  }

  /** Procedure 1: add a new flag. */
  async addFlag(ref: FlagRef, input: AddFlagInput = {}): Promise<FlagView> {
    const metadata = this.metadataFor(ref, input.description);
    if (await this.store.latest('FLAG', ref)) {
      throw new FlagExistsError(`flag ${refLabel(ref)} already exists; change its description with update-flag`, {
        field: 'flag_name',
      });
    }
    const [row] = await this.store.append([{ kind: 'FLAG', ref, fields: metadata }]);
    return this.flagView(row!, undefined);
  }

  /** Procedure 4: update an existing flag's metadata (a newer FLAG row). */
  async updateFlag(ref: FlagRef, input: AddFlagInput): Promise<FlagView> {
    const current = await this.requireFlagRow(ref);
    const metadata = { ...this.parseMetadataRow(current), ...this.metadataFor(ref, input.description) };
    delete metadata.CreatedTime;
    const [row] = await this.store.append([{ kind: 'FLAG', ref, fields: metadata }]);
    return this.flagView(row!, await this.store.latest('REVISION', ref));
  }

  /** Procedure 5: the flag's newest metadata. */
  async getFlag(ref: FlagRef): Promise<FlagView> {
    const row = await this.requireFlagRow(ref);
    return this.flagView(row, await this.store.latest('REVISION', ref));
  }

  /** Procedures 7 and 8: every flag of a project, optionally with its newest revision. */
  async listFlags(project: string, options: ListOptions = {}): Promise<FlagView[]> {
    assertProjectName(project);
    const rows = await this.store.listFlags(project);
    if (rows.length === 0) throw await this.projectNotFound(project);
    const views = await Promise.all(
      rows.map(async (row) => this.flagView(row, await this.store.latest('REVISION', row.ref), options.withRevision)),
    );
    return options.includeArchived ? views : views.filter((view) => !view.archived);
  }

  /** Procedure 2: add a revision; Vexil's own revisions are salted with the flag name. */
  async addRevision(ref: FlagRef, input: RevisionInput): Promise<RevisionView> {
    const fields: Record<string, unknown> = {
      Name: ref.name,
      Type: storedFlagType(ref.flagType),
      FormatVersion: input.FormatVersion ?? 1,
      ControlValue: input.ControlValue,
      Treatments: input.Treatments ?? [],
    };
    if (input.Comment !== undefined) fields.Comment = input.Comment;
    if (input.OwnerID !== undefined) fields.OwnerID = input.OwnerID;
    if (input.HashAlgorithm !== undefined) fields.HashAlgorithm = input.HashAlgorithm;
    if (input.Salt !== null) fields.Salt = input.Salt ?? ref.name;
    const revision = parseRevision(fields, { mode: 'input', flagType: ref.flagType, name: ref.name });
    await this.requireFlagRow(ref);
    return this.appendRevision(ref, revision);
  }

  /** Procedure 6: the revision in force. */
  async latestRevision(ref: FlagRef): Promise<RevisionView> {
    await this.requireFlagRow(ref);
    const row = await this.store.latest('REVISION', ref);
    if (!row) throw noRevision(ref);
    return this.revisionView(row);
  }

  /** Procedure 9: the revision history, newest first. */
  async history(ref: FlagRef, limit?: number): Promise<RevisionView[]> {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new InvalidInputError(`limit must be a whole number of at least 1, got ${limit}`, { field: 'limit' });
    }
    await this.requireFlagRow(ref);
    const rows = await this.store.history('REVISION', ref, limit === undefined ? {} : { limit });
    return rows.map((row) => this.revisionView(row, 'lenient'));
  }

  /**
   * Procedure 3 in one step: republish an earlier revision as a new revision that
   * names its source in `RollbackOf`. History is never edited.
   */
  async rollback(ref: FlagRef, input: RollbackInput = {}): Promise<RevisionView> {
    await this.requireFlagRow(ref);
    let source: StoredRow | undefined;
    if (input.to !== undefined) {
      source = await this.requireRevisionRow(ref, input.to, 'to');
    } else {
      const [, previous] = await this.store.history('REVISION', ref, { limit: 2 });
      if (!previous) {
        throw new RevisionNotFoundError(`flag ${refLabel(ref)} has no earlier revision to roll back to`, {
          field: 'to',
        });
      }
      source = previous;
    }
    const old = this.parseRevisionRow(source);
    const revision: Revision = { ...old, RollbackOf: source.wtime };
    delete revision.CreatedTime;
    delete revision.Archived;
    revision.Comment = input.Comment ?? `Rollback to ${source.wtime}${old.Comment ? ` (${old.Comment})` : ''}`;
    // The caller made this revision: the copied revision's owner did not.
    delete revision.OwnerID;
    if (input.OwnerID !== undefined) revision.OwnerID = input.OwnerID;
    return this.appendRevision(ref, revision);
  }

  /** One revision by its WTIME, as history lists it (shown as stored, like history). */
  async getRevision(ref: FlagRef, wtime: string): Promise<RevisionView> {
    await this.requireFlagRow(ref);
    return this.revisionView(await this.requireRevisionRow(ref, wtime, 'wtime'), 'lenient');
  }

  /** What the runbook system lacked (procedures 10, 11): archive by a revision; history stays. */
  async archive(ref: FlagRef, input: ArchiveInput = {}): Promise<RevisionView> {
    await this.requireFlagRow(ref);
    const latest = await this.store.latest('REVISION', ref);
    const base: Revision = latest
      ? this.parseRevisionRow(latest)
      : {
          Name: ref.name,
          Type: storedFlagType(ref.flagType),
          FormatVersion: 1,
          ControlValue: ref.flagType === 'feature' ? false : '',
          Treatments: [],
        };
    if (base.Archived === true) {
      throw new InvalidInputError(`flag ${refLabel(ref)} is already archived; roll back to restore it`, {
        field: 'flag_name',
      });
    }
    const revision: Revision = { ...base, Archived: true, Comment: input.Comment ?? 'Archived' };
    delete revision.CreatedTime;
    delete revision.RollbackOf;
    // The caller archived it: the owner of the revision it copies did not.
    delete revision.OwnerID;
    if (input.OwnerID !== undefined) revision.OwnerID = input.OwnerID;
    return this.appendRevision(ref, revision);
  }

  /** `vexil doctor`: every row of a project that does not validate, with its key. */
  async doctor(project: string): Promise<DoctorReport> {
    const report = await diagnoseProject(this.store, project);
    if (report.rowsChecked === 0) throw await this.projectNotFound(project);
    return report;
  }

  /** Evaluates the flag's newest revision for one instance id. */
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
    await this.requireFlagRow(ref);
    const row = await this.store.latest('REVISION', ref);
    if (!row) throw noRevision(ref);
    // Checked and evaluated as /get-feature-flag does (an archived flag throws its EmptyFlagDataException).
    const flag = compileFlag({ flagType: ref.flagType, name: ref.name, revision: row.fields });
    if (flag.state === 'invalid') throw flag.error;
    const { value, group } = flag.compiled.evaluate(instanceId);
    return { ...ref, instanceId, value, group, revision: row.wtime };
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
    for (const config of configs) {
      const { ref, kind, cell } = config;
      const context = { mode: 'input' as const, flagType: ref.flagType, name: ref.name, path: 'row_cell_value' };
      if (kind === 'FLAG') {
        rows.push({ kind, ref, fields: parseFlagMetadata(cell, context) });
        known.add(refLabel(ref));
        continue;
      }
      const revision = parseRevision(cell, context);
      if (!known.has(refLabel(ref))) {
        // A new project's configs add its flags first: the flag is what is missing, not the project.
        await this.requireFlagRow(ref, false);
        known.add(refLabel(ref));
      }
      rows.push({ kind, ref, fields: revision });
    }
    if (this.store.capabilities.atomicBatch) return this.store.append(rows);
    const stored: StoredRow[] = [];
    for (const row of rows) {
      try {
        stored.push(...(await this.store.append([row])));
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

  private metadataFor(ref: FlagRef, description: string | undefined): FlagMetadata {
    const fields: Record<string, unknown> = { Name: ref.name, Type: storedFlagType(ref.flagType) };
    if (description !== undefined) fields.Description = description;
    return parseFlagMetadata(fields, { mode: 'input', flagType: ref.flagType, name: ref.name });
  }

  private async appendRevision(ref: FlagRef, revision: Revision): Promise<RevisionView> {
    const [row] = await this.store.append([{ kind: 'REVISION', ref, fields: revision }]);
    return this.revisionView(row!);
  }

  /**
   * The flag's newest FLAG row. A missing flag is explained: it exists with the other
   * type, or (unless `checkProject` is false) its project does not exist at all.
   */
  private async requireFlagRow(ref: FlagRef, checkProject = true): Promise<StoredRow> {
    const row = await this.store.latest('FLAG', ref);
    if (!row) {
      const other = ref.flagType === 'feature' ? 'data' : 'feature';
      if (await this.store.latest('FLAG', { ...ref, flagType: other })) {
        throw new FlagTypeMismatchError(ref.name, ref.flagType, other, this.side);
      }
      if (checkProject) await this.requireProject(ref.project);
      throw new EmptyFlagDataException(
        `flag ${refLabel(ref)} does not exist; add it first with: vexil add-flag ${ref.name} -p ${ref.project} -t ${ref.flagType}`,
        { field: 'flag_name' },
      );
    }
    return row;
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
      throw new RevisionNotFoundError(
        `flag ${refLabel(ref)} has no revision at ${wtime}; list them with: vexil history ${ref.name} -p ${ref.project} -t ${ref.flagType}`,
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

  private parseRevisionRow(row: StoredRow): Revision {
    return parseRevision(row.fields, { mode: 'stored', flagType: row.ref.flagType, name: row.ref.name });
  }

  /** History shows rows that no longer validate as they are, so `lenient` skips the check. */
  private revisionView(row: StoredRow, mode: 'strict' | 'lenient' = 'strict'): RevisionView {
    const revision = mode === 'strict' ? this.parseRevisionRow(row) : (row.fields as Revision);
    return { project: row.ref.project, flagType: row.ref.flagType, name: row.ref.name, wtime: row.wtime, revision };
  }

  private flagView(row: StoredRow, revisionRow: StoredRow | undefined, withRevision = true): FlagView {
    const metadata = this.parseMetadataRow(row);
    const latest = revisionRow ? this.revisionView(revisionRow, 'lenient') : undefined;
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
}

function noRevision(ref: FlagRef): EmptyFlagDataException {
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
