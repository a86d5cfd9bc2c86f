import { type ChokidarOptions, watch } from 'chokidar';

/** A folder being watched; `close()` stops watching and waits for the files being handled. */
export interface FolderWatch {
  close(): Promise<void>;
  /** Resolves when no file is being handled. */
  idle(): Promise<void>;
}

/**
 * Runs `handle` for every file in `folder` (those there at start, then each one added), keeping track of
 * the handlers still running so that a stop never cuts one off. `handle` reports its own errors.
 */
export function watchFolder(
  folder: string,
  options: ChokidarOptions,
  handle: (path: string) => Promise<void>,
): FolderWatch {
  const inFlight = new Set<Promise<void>>();
  const watcher = watch(folder, { ignoreInitial: false, ...options });
  watcher.on('add', (path) => {
    const task = handle(path).finally(() => inFlight.delete(task));
    inFlight.add(task);
  });
  return {
    close: async () => {
      await watcher.close();
      await Promise.all(inFlight);
    },
    idle: async () => {
      await Promise.all(inFlight);
    },
  };
}
