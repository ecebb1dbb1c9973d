import { userInfo } from 'node:os';

/**
 * Who runs the command, for the OwnerID of the revisions it writes when `--owner` is
 * not given: the OS user. `userInfo()` throws where the user has no passwd entry (some
 * containers); the login variables stand in there.
 */
export function callerName(): string {
  try {
    const name = userInfo().username;
    if (name !== '') return name;
  } catch {
    // No passwd entry: fall through to the environment.
  }
  return process.env.USER || process.env.LOGNAME || process.env.USERNAME || 'unknown';
}
