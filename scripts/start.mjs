// `npm start`: the flag service on PORT (8080) with the embedded SQLite store
// (./vexil.db unless VEXIL_STORE says otherwise) and the demo flags of project "demo".
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = process.env.PORT ?? '8080';
console.log(`Vexil on http://localhost:${port} — try:
  curl 'http://localhost:${port}/get-feature-flag?project_name=demo&instance_id=A123456&flag_type=data&flag_name=llm_provider'
  open http://localhost:${port}/docs for the API; npx vexil --help for the command line. Ctrl-C stops.`);
const child = spawn(process.execPath, [join(root, 'packages/server/dist/cli.js'), 'serve', '--demo'], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
