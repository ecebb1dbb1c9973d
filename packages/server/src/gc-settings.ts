import { setFlagsFromString } from 'node:v8';

const SCAVENGE_FLAG = /^--(no-)?parallel[-_]scavenge$/;

/**
 * Runs V8's young-generation collections (scavenges) on the service's own thread, as
 * `node --no-parallel-scavenge` would, unless the process was started with either form
 * of that flag.
 *
 * Almost nothing a request allocates outlives it: under load about 30 KB of a 16 MB young
 * generation survive a scavenge, which then takes about 0.6 ms on one thread, so helper
 * threads have little to share. But the main thread waits for every helper to finish,
 * and when the cores are busy (a load generator on the same machine, neighbours, a
 * container's CPU quota) a helper may not be running: under bench:http on two cores,
 * scavenge pauses had a p90 of 2.2–4.1 ms with helpers and 0.8–1.5 ms without, and 35–45 %
 * less time went to scavenges. V8 reads the flag at each scavenge, so setting it at
 * start-up takes effect (a test counts the scavenger tasks of a served process).
 */
export function runScavengesOnMainThread(): void {
  if (process.execArgv.some((arg) => SCAVENGE_FLAG.test(arg))) return;
  setFlagsFromString('--no-parallel-scavenge');
}
