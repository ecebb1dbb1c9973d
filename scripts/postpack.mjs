// After `npm pack` / `npm publish` of a workspace package: removes the LICENSE copy that
// prepack.mjs put in the package's folder (the repository keeps one, at its root).
import { rmSync } from 'node:fs';
import { join } from 'node:path';

rmSync(join(process.cwd(), 'LICENSE'), { force: true });
