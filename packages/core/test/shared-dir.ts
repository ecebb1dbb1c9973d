import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `shared/` sits beside the repository (in CI too); VEXIL_SHARED_DIR points elsewhere. */
export function sharedDir(): string {
  const dir = process.env.VEXIL_SHARED_DIR ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
  if (!existsSync(dir)) throw new Error(`shared/ not found at ${dir}: set VEXIL_SHARED_DIR`);
  return dir;
}
