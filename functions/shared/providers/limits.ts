import { SMALLEST_LIMITS } from './smallest/limits';
import { TYPECAST_LIMITS } from './typecast/limits';
import type { ProviderLimits, ProviderName } from './types';

export const PROVIDER_LIMITS: Readonly<Record<ProviderName, ProviderLimits>> = {
  smallest: SMALLEST_LIMITS,
  typecast: TYPECAST_LIMITS,
};
