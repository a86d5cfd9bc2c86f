/**
 * Put at the top of every Lambda bundle (esbuild `inject`, set by HouseFunction): stack traces name the
 * original file, line and column (`functions/clone/batch.ts:120:7`), as `--enable-source-maps` would, but the
 * source map is read only when a stack trace is first formatted. `--enable-source-maps` reads and parses
 * the whole map (about 1 MB) while the bundle loads, some 15 ms of every cold start; errors are rare.
 *
 * The bundle is written without a `sourceMappingURL` comment, so Node never loads the map itself; the map
 * sits next to the bundle as `index.mjs.map`. Frames outside the bundle (Node's own) are left as V8 writes
 * them, and so is every frame when the map cannot be read.
 */

const bundleUrl = import.meta.url;
let sourceMap: import('node:module').SourceMap | null | undefined;

/** Built-in modules are fetched when first needed: an ES import of them costs every cold start. */
function loadSourceMap(): import('node:module').SourceMap | null {
  if (sourceMap === undefined) {
    try {
      const { readFileSync } = process.getBuiltinModule('node:fs');
      const { SourceMap } = process.getBuiltinModule('node:module');
      const { fileURLToPath } = process.getBuiltinModule('node:url');
      sourceMap = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(bundleUrl)}.map`, 'utf8')));
    } catch {
      sourceMap = null;
    }
  }
  return sourceMap;
}

/** A source as the map names it relative to the build folder (`../../work/x/functions/a.ts`), without the climb. */
function readablePath(source: string): string {
  return source.replace(/^(\.\.\/)+/, '');
}

/** The frame as V8 writes it, with the bundle position replaced by the original one. */
function formatFrame(callSite: NodeJS.CallSite): string {
  const text = String(callSite);
  const line = callSite.getLineNumber();
  const column = callSite.getColumnNumber();
  if (callSite.getFileName() !== bundleUrl || line === null || column === null) return text;
  const map = loadSourceMap();
  const entry = map?.findEntry(line - 1, column - 1);
  if (!entry || !('originalSource' in entry)) return text;
  const original = `${readablePath(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  return text.replace(`${bundleUrl}:${line}:${column}`, original);
}

function describe(error: unknown): string {
  try {
    return Error.prototype.toString.call(error);
  } catch {
    return '<error>';
  }
}

Error.prepareStackTrace = (error, callSites) =>
  `${describe(error)}${callSites.map((callSite) => `\n    at ${formatFrame(callSite)}`).join('')}`;
