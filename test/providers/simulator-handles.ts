import { afterEach } from 'vitest';
import { type SimulatorHandle, startSmallestSimulator, startTypecastSimulator } from '../../simulators';

/**
 * Starters for the simulators' own tests (plain HTTP, as an outside script sees them): called at a test
 * file's top level, every simulator started through them is closed after each test.
 */
export function simulatorsClosedAfterEach() {
  const handles: SimulatorHandle<unknown>[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.close()));
  });
  const kept = <S extends SimulatorHandle<unknown>>(simulator: S): S => {
    handles.push(simulator);
    return simulator;
  };
  return {
    smallest: async (options: Parameters<typeof startSmallestSimulator>[0] = {}) =>
      kept(await startSmallestSimulator(options)),
    typecast: async (options: Parameters<typeof startTypecastSimulator>[0] = {}) =>
      kept(await startTypecastSimulator(options)),
  };
}
