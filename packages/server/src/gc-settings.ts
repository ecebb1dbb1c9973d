import { setFlagsFromString } from 'node:v8';

const SCAVENGE_FLAG = /^--(no-)?parallel[-_]scavenge$/;

/**
 * Runs V8's young-generation collections (scavenges) on the service's own thread, as
 * `node --no-parallel-scavenge` would, unless the process was started with either form
 * of that flag.
 *
 * Almost nothing a request allocates outlives it: a scavenge copies a few kilobytes of a
 * young generation of megabytes and is short on one thread, so helper threads have
 * little to share. But the main thread waits for every helper to finish, and when the
 * cores are busy (a load generator on the same machine, neighbours, a container's CPU
 * quota) a helper may not be running, and a short pause becomes a long one. How much
 * this pays is measured in bench/README.md (HTTP load). V8 reads the flag at each
 * scavenge, so setting it at start-up takes effect (a test counts the scavenger tasks
 * of a served process).
 */
export function runScavengesOnMainThread(): void {
  if (process.execArgv.some((arg) => SCAVENGE_FLAG.test(arg))) return;
  setFlagsFromString('--no-parallel-scavenge');
}
