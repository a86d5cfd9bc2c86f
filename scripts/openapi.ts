import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from './openapi/document';

/**
 * Writes `openapi.json` at the repository root from the zod schemas (`npm run openapi`), formatted by Biome
 * (2 spaces, trailing newline) so that `npm run lint` accepts it as written.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const target = fileURLToPath(new URL('../openapi.json', import.meta.url));
const json = `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;

const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
const formatted = spawnSync(process.execPath, [biome, 'format', `--stdin-file-path=${target}`], {
  cwd: root,
  input: json,
  encoding: 'utf8',
});
if (formatted.status !== 0 || formatted.stdout.trim() === '') {
  throw new Error(`biome could not format openapi.json:\n${formatted.stderr}`);
}
writeFileSync(target, formatted.stdout.endsWith('\n') ? formatted.stdout : `${formatted.stdout}\n`);
console.log(`wrote ${target}`);
