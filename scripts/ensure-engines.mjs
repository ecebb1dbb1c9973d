// Before the tests: the engines the store tests start by themselves — PostgreSQL's
// server binaries (initdb, pg_ctl) and Google's Bigtable emulator with the cbt CLI —
// and Debian's Chromium, which the browser tests drive with playwright-core (browser
// downloads are not possible on these machines, so Playwright's own install is not used).
// The machine image has them; where one is missing, install it from Debian's packages
// (or the Google Cloud CLI's, where that repository is configured). No test skips an
// engine, so a missing one fails loudly here with what to do.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const checks = [
  {
    name: 'PostgreSQL server (initdb, pg_ctl)',
    found: () =>
      Boolean(process.env.PG_BIN) ||
      (existsSync('/usr/lib/postgresql') &&
        readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))),
    packages: ['postgresql'],
  },
  {
    name: 'Bigtable emulator (cbtemulator)',
    found: () =>
      Boolean(process.env.CBTEMULATOR) ||
      existsSync('/usr/lib/google-cloud-sdk/platform/bigtable-emulator/cbtemulator'),
    packages: ['google-cloud-cli-bigtable-emulator'],
  },
  { name: 'cbt CLI', found: () => onPath('cbt'), packages: ['google-cloud-cli-cbt'] },
  {
    name: 'Chromium',
    found: () => Boolean(process.env.CHROMIUM) || existsSync('/usr/bin/chromium'),
    packages: ['chromium'],
  },
];

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const missing = checks.filter((check) => !check.found());
if (missing.length > 0) {
  const packages = missing.flatMap((check) => check.packages);
  console.log(`setup: installing ${packages.join(', ')} (missing: ${missing.map((m) => m.name).join('; ')})`);
  const [command, ...prefix] = process.getuid?.() === 0 ? ['apt-get'] : ['sudo', '-n', 'apt-get'];
  const apt = (args) =>
    spawnSync(command, [...prefix, ...args], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', ...packages]);
  const still = missing.filter((check) => !check.found());
  if (still.length > 0) {
    console.error(
      `setup: still missing ${still.map((m) => m.name).join('; ')}. Install them (Debian: apt-get install ${still
        .flatMap((c) => c.packages)
        .join(' ')}; the Bigtable ones come from the Google Cloud CLI's apt repository), or point ` +
        'PG_BIN / CBTEMULATOR at the binaries.',
    );
    process.exit(1);
  }
}
