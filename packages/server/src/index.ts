export { runCli } from './cli/program.js';
export { seedDemo } from './demo.js';
export {
  type AddFlagInput,
  type ArchiveInput,
  FlagAdmin,
  flagRef,
  type ListOptions,
  type RevisionInput,
  type RollbackInput,
} from './flag-admin.js';
export type { EvaluationView, FlagView, RevisionView } from './views.js';
