import type { AccessStore, FlagStore, NewRow, ProjectSettings } from '@vexil/store';
import type { Actor } from './actor.js';

/** How long a project's setting is trusted before it is read again (other processes may change it). */
export const ACCESS_CACHE_MS = 5000;
/** Projects whose setting is kept at most; the cache starts over when full. */
const CACHE_SIZE = 10_000;

/**
 * Whether a project's flags may be evaluated without a token (`publicEvaluation`).
 * A project with no settings predates them and stays public, as the runbook API
 * always was; a project whose first flag Vexil writes gets settings with public
 * evaluation off.
 */
export class ProjectAccess {
  readonly #cache = new Map<string, { public: boolean; until: number }>();

  constructor(
    private readonly access: AccessStore,
    private readonly flags: FlagStore,
    private readonly cacheMs = ACCESS_CACHE_MS,
  ) {}

  /** The answer when known and fresh, without waiting: the hot path of evaluations. */
  cachedPublic(project: string): boolean | undefined {
    const entry = this.#cache.get(project);
    return entry !== undefined && entry.until > Date.now() ? entry.public : undefined;
  }

  async isPublic(project: string): Promise<boolean> {
    const cached = this.cachedPublic(project);
    if (cached !== undefined) return cached;
    let settings: ProjectSettings | undefined;
    try {
      settings = await this.access.projectSettings(project);
    } catch (error) {
      // The store is down: the last known setting stands, so evaluation keeps being served from what is cached.
      const stale = this.#cache.get(project);
      if (stale !== undefined) return stale.public;
      throw error;
    }
    const answer = settings === undefined ? true : settings.publicEvaluation;
    if (this.#cache.size >= CACHE_SIZE) this.#cache.clear();
    this.#cache.set(project, { public: answer, until: Date.now() + this.cacheMs });
    return answer;
  }

  /** A project's settings as they apply: those stored, or public for a project that predates them. */
  async settings(project: string): Promise<ProjectSettings & { stored: boolean }> {
    const stored = await this.access.projectSettings(project);
    if (stored !== undefined) return { ...stored, stored: true };
    return { project, publicEvaluation: true, updatedTime: '', updatedBy: '', stored: false };
  }

  /** Changes a project's settings and records who did. */
  async set(project: string, publicEvaluation: boolean, actor: Actor): Promise<ProjectSettings> {
    const stored = await this.access.projectSettings(project);
    const settings: ProjectSettings = {
      // Other settings (approvals) stay as they are.
      ...stored,
      project,
      publicEvaluation,
      updatedTime: new Date().toISOString(),
      updatedBy: actor.owner,
    };
    await this.access.putProjectSettings(settings);
    await this.access.appendAccessEvent({
      time: settings.updatedTime,
      action: 'settings',
      actor: actor.owner,
      tokenId: actor.tokenId,
      address: actor.address,
      projects: [project],
      subject: project,
      detail: `publicEvaluation ${publicEvaluation ? 'on' : 'off'}`,
    });
    this.#cache.delete(project);
    return settings;
  }

  /**
   * Before rows are written: each project they start (no flags, no settings yet) gets
   * settings with public evaluation off.
   */
  async settleNewProjects(rows: readonly NewRow[], actor: Actor): Promise<void> {
    const projects = new Set(rows.map((row) => row.ref.project));
    for (const project of projects) {
      if ((await this.access.projectSettings(project)) !== undefined) continue;
      if ((await this.flags.listFlags(project)).length > 0) continue;
      await this.set(project, false, actor);
    }
  }
}
