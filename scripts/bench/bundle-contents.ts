/** What a bundle's bytes come from, by input file and by package (esbuild's metafile). */
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ENTRIES, houseBuildOptions } from './house-build';
import type { BundleContributors, Contributor, FunctionName } from './report';

/**
 * Builds a handler with houseBuildOptions (the module substitutes included) plus a metafile, and returns
 * what the bundle's bytes come from. The bench reports whether its size equals the CDK bundle's, which
 * catches the two drifting apart.
 */
export async function bundleContributors(
  root: string,
  name: FunctionName,
  top = 15,
): Promise<BundleContributors> {
  const result = await build({
    ...houseBuildOptions(root, name, join(root, 'bench-metafile', 'index.mjs'), true),
    write: false,
    metafile: true,
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('index.mjs'));
  if (!output) throw new Error(`esbuild produced no index.mjs for ${ENTRIES[name]}`);
  const [, meta] = output;
  return {
    totalBytes: meta.bytes,
    ...rankInputs(meta, top),
  };
}

/** Top inputs and top packages by bytes in the output. */
export function rankInputs(
  output: Metafile['outputs'][string],
  top: number,
): Pick<BundleContributors, 'topInputs' | 'topPackages'> {
  const inputs = Object.entries(output.inputs).map(([path, input]) => ({
    name: path,
    value: input.bytesInOutput,
  }));
  const packages = new Map<string, number>();
  for (const input of inputs) {
    const owner = packageOf(input.name);
    packages.set(owner, (packages.get(owner) ?? 0) + input.value);
  }
  const total = output.bytes;
  const ranked = (list: { name: string; value: number }[]): Contributor[] =>
    list
      .sort((a, b) => b.value - a.value)
      .slice(0, top)
      .map((entry) => ({ ...entry, share: entry.value / total }));
  return {
    topInputs: ranked(inputs),
    topPackages: ranked([...packages].map(([packageName, value]) => ({ name: packageName, value }))),
  };
}

/** `node_modules/@scope/name/…` → `@scope/name`; own code → `voicedrop (functions/<folder>)`. */
export function packageOf(path: string): string {
  const marker = 'node_modules/';
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const parts = path.slice(at + marker.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? path);
  }
  const own = path.indexOf('functions/');
  if (own >= 0) {
    const folders = path.slice(own).split('/');
    return `voicedrop (${folders.slice(0, Math.min(3, folders.length - 1)).join('/')})`;
  }
  return path;
}
