import { isVexilError, UnavailableError } from '@vexil/core';

/** SQLite error codes that mean the database cannot be used right now, rather than a bad call. */
const UNAVAILABLE_CODES = /^SQLITE_(CANTOPEN|IOERR|BUSY|LOCKED|FULL|NOTADB|CORRUPT|PROTOCOL|READONLY|PERM|AUTH)/;

/**
 * Runs `fn`, turning driver errors that mean "the database cannot be used" into
 * UnavailableError. Internal to the package.
 */
export function guard<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (isVexilError(error)) throw error;
    const code = (error as { code?: unknown }).code;
    const message = (error as Error).message ?? String(error);
    const unavailable =
      (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) ||
      (error instanceof TypeError && /database connection is not open|directory does not exist/i.test(message)) ||
      (typeof code === 'string' && /^E(NOENT|ACCES|PERM|ROFS|NOSPC|NOTDIR)$/.test(code));
    if (!unavailable) throw error;
    throw new UnavailableError(`SQLite store ${path} is unavailable: ${message}`, {
      hint: 'check that the path in VEXIL_STORE is a writable SQLite file and that no other program holds it locked',
      cause: error,
    });
  }
}
