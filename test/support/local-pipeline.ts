import { silentLog } from '../../functions/shared/logger';
import { type LocalPipeline, type LocalPipelineOptions, startLocalPipeline } from '../../local/pipeline';

/**
 * Local mode in this process as the tests start it: free ports, quiet, the built-in provider simulators
 * and nothing from this process's environment. `options` override any of it.
 */
export function startTestPipeline(
  dataDir: string,
  options: Partial<Omit<LocalPipelineOptions, 'dataDir'>> = {},
): Promise<LocalPipeline> {
  return startLocalPipeline({
    s3Port: 0,
    dynamodbPort: 0,
    apiPort: 0,
    forceSimulators: true,
    environment: {},
    log: silentLog,
    ...options,
    dataDir,
  });
}
