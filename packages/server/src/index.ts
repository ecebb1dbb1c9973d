export {
  CHANGE_EVENT_TYPES,
  type ChangeEvent,
  ChangeEvents,
  type ChangeEventType,
  type ChangeListener,
} from './change-events.js';
export { runCli } from './cli/program.js';
export { seedDemo } from './demo.js';
export type { DoctorReport, RowProblem, SegmentReferenceProblem } from './doctor.js';
export type { ExpiredFlag } from './expired-flags.js';
export {
  type AddFlagInput,
  type ArchiveInput,
  type ChangeInput,
  FlagAdmin,
  flagRef,
  type ListOptions,
  type MetadataInput,
  type RevisionInput,
  type RollbackInput,
  type SegmentInput,
  segmentRef,
} from './flag-admin.js';
export type { BatchFlag, BatchSegment, FlagBatch, FlagBatchResult } from './flag-batch.js';
export type {
  ContextEvaluationView,
  EvaluationView,
  FlagView,
  RevisionView,
  SegmentRevisionView,
  SegmentView,
} from './views.js';
