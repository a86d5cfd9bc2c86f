import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT } from '../../lib/house-function';

export interface RelativeImport {
  /** The importing module, relative to the repository root. */
  readonly from: string;
  /** What it imports, resolved relative to the repository root (without an extension). */
  readonly to: string;
}

/**
 * Every relative import (`from '…'`, `import '…'`, `import('…')`, types included) of every TypeScript
 * module under `folder`, for tests that keep one part of the repository from reaching into another.
 */
export function relativeImportsUnder(folder: string): RelativeImport[] {
  const root = path.join(REPOSITORY_ROOT, folder);
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.ts'),
  );
  return files.flatMap((file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    return [...text.matchAll(/\bfrom\s+'(\.[^']*)'|\bimport\s*\(?\s*'(\.[^']*)'/g)].map((match) => ({
      from: path.join(folder, file),
      to: path.relative(REPOSITORY_ROOT, path.resolve(root, path.dirname(file), match[1] ?? match[2] ?? '')),
    }));
  });
}
