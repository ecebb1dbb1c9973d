/**
 * `@vexil/core/runbook`: the runbook system's own file formats — the Python literals
 * its rows and configs hold, and its Airflow job configs. Kept apart from evaluation,
 * which never needs them.
 */
export { AIRFLOW_CONFIG_KEYS, type AirflowConfig, parseAirflowConfig } from './airflow-config.js';
export { type PythonLiteralOptions, type PyValue, parsePythonLiteral } from './python-literal.js';
