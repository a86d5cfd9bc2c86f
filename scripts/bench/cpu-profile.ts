/** A V8 CPU profile of one import: its samples charged to the bundle's packages or Node's loading steps. */
import type { SourceMap } from 'node:module';
import { packageOf } from './bundle-contents';

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  /** Microseconds on the monotonic clock. */
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const MODULE_TOP_LEVEL = '(bundle top level: hoisted ES module bodies)';
// esbuild's __esm/__commonJS helpers have no source position; V8 charges the lazy compilation of the module
// body a helper calls to the helper, so their self time is mostly compiling wrapped modules.
const UNMAPPED = '(esbuild module wrappers: lazily compiling and entering wrapped modules)';
/** How far past a function's start to look for its first mapped token. */
const MAPPING_LOOKAHEAD = 400;

type CallFrame = CpuProfileNode['callFrame'];

/**
 * What a sample without bundle code on its stack was doing, first match wins (the source map and undici
 * are loaded from inside module compilation and built-in loading, so they are tested first).
 */
const LOADING_STEPS: readonly { readonly label: string; matches(frame: CallFrame): boolean }[] = [
  {
    label: 'Node: reading and indexing the source map (--enable-source-maps)',
    matches: (frame) => frame.url === 'node:internal/source_map/source_map_cache',
  },
  {
    label: 'Node: loading its bundled undici (the ESM facade of node:http reads its lazy fetch getters)',
    matches: (frame) => frame.url === 'node:internal/deps/undici/undici',
  },
  {
    label: 'V8: compiling the bundle (compileSourceTextModule)',
    matches: (frame) => frame.functionName === 'compileSourceTextModule',
  },
  {
    label: 'Node: reading the bundle file and decoding it to a string',
    matches: (frame) =>
      frame.url === 'node:internal/modules/esm/load' ||
      (frame.url === 'node:internal/modules/helpers' && frame.functionName === 'stringify'),
  },
  {
    label: 'Node: loading built-in modules (node:crypto, node:http, streams, …)',
    matches: (frame) => frame.url === 'node:internal/bootstrap/realm',
  },
];

export function attributeProfile(
  profile: CpuProfile,
  bundleUrl: string,
  sourceMap: SourceMap,
  window: { readonly startUs: number; readonly endUs: number },
): { evaluationMs: number; byOwner: Map<string, number> } {
  const owners = new ProfileOwners(profile, bundleUrl, sourceMap);
  const byOwner = new Map<string, number>();
  let evaluationMs = 0;
  let clock = profile.startTime;
  let previous = clock;
  profile.samples.forEach((id, index) => {
    previous = clock;
    clock += profile.timeDeltas[index] ?? 0;
    if (clock <= window.startUs || previous >= window.endUs) return;
    const ms = (Math.min(clock, window.endUs) - Math.max(previous, window.startUs)) / 1000;
    const bundleOwner = owners.bundleOwnerOf(id);
    if (bundleOwner !== undefined) evaluationMs += ms;
    const owner = bundleOwner ?? owners.otherOwnerOf(id);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + ms);
  });
  return { evaluationMs, byOwner };
}

/** Who a profile node's time belongs to: a package of the bundle, or a step of Node's own loading. */
class ProfileOwners {
  private readonly parents = new Map<number, CpuProfileNode>();
  private readonly nodes = new Map<number, CpuProfileNode>();
  private readonly bundleOwners = new Map<number, string | undefined>();

  constructor(
    profile: CpuProfile,
    private readonly bundleUrl: string,
    private readonly sourceMap: SourceMap,
  ) {
    for (const node of profile.nodes) {
      this.nodes.set(node.id, node);
      for (const child of node.children ?? []) this.parents.set(child, node);
    }
  }

  /** The bundle's package the node (or its nearest ancestor in the bundle) runs code of, if any. */
  bundleOwnerOf(id: number): string | undefined {
    if (this.bundleOwners.has(id)) return this.bundleOwners.get(id);
    const node = this.nodes.get(id);
    let owner: string | undefined;
    if (node?.callFrame.url === this.bundleUrl) {
      const { functionName, lineNumber, columnNumber } = node.callFrame;
      if (functionName === '' && lineNumber === 0 && columnNumber === 0) owner = MODULE_TOP_LEVEL;
      else {
        const source = this.sourceAt(lineNumber, columnNumber);
        owner = source ? packageOf(source) : UNMAPPED;
      }
    } else if (node) {
      const parent = this.parents.get(id);
      owner = parent ? this.bundleOwnerOf(parent.id) : undefined;
    }
    this.bundleOwners.set(id, owner);
    return owner;
  }

  /** Time outside the bundle: a loading step of Node's, a native frame, or the file and function. */
  otherOwnerOf(id: number): string {
    const stack: CallFrame[] = [];
    for (let node = this.nodes.get(id); node; node = this.parents.get(node.id)) stack.push(node.callFrame);
    const [leaf] = stack;
    if (!leaf) return '(unknown)';
    if (leaf.functionName.startsWith('(')) return leaf.functionName;
    const step = LOADING_STEPS.find((candidate) => stack.some((frame) => candidate.matches(frame)));
    if (step) return step.label;
    const withUrl = stack.find((frame) => frame.url !== '');
    return withUrl
      ? `${withUrl.url.replace(/^file:\/\/.*\//, '')} ${withUrl.functionName}`.trim()
      : '(native)';
  }

  private sourceAt(line: number, column: number): string | undefined {
    for (let offset = 0; offset <= MAPPING_LOOKAHEAD; offset += 8) {
      const entry = this.sourceMap.findEntry(line, column + offset) as { originalSource?: string };
      if (entry.originalSource) return entry.originalSource;
    }
    return undefined;
  }
}
