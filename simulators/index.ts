/**
 * The provider simulators' one door, for local mode and the tests: each vendor's simulator over real HTTP
 * (built from docs/providers.md, importing nothing from the clients), and the handle they share.
 */
export type { SimulatorFault, SimulatorRouteOrOther } from './faults';
export type { SimulatorHandle } from './server';
export {
  SMALLEST_DELETE_MODES,
  type SmallestDeleteMode,
  type SmallestSeedInput,
  type SmallestSimulatedClone,
  type SmallestSimulator,
  type SmallestSimulatorOptions,
  startSmallestSimulator,
} from './smallest/simulator';
export { MODELS as TYPECAST_MODELS } from './typecast/contract';
export {
  startTypecastSimulator,
  type TypecastSeedInput,
  type TypecastSimulatedClone,
  type TypecastSimulator,
  type TypecastSimulatorOptions,
} from './typecast/simulator';
