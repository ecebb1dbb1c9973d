/**
 * `@vexil/web/local`: evaluation in the browser from the project snapshot, with
 * `@vexil/core` — `new VexilClient({ …, evaluation: localEvaluation })`. Its own entry
 * point because core's evaluation is most of its size (see the package README).
 */
export { localEvaluation } from './local-evaluation.js';
