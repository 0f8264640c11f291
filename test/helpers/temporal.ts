import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });

/** The dev server that `npm test` started (test/run.ts), shared by every integration test. */
export function testServerAddress(): string {
  const address = process.env.COASTY_TEST_TEMPORAL_ADDRESS;
  if (!address) {
    throw new Error(
      'COASTY_TEST_TEMPORAL_ADDRESS is not set: run integration tests through `npm test` (test/run.ts).',
    );
  }
  return address;
}

export function connectTestEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: testServerAddress() });
}

let counter = 0;
/** A task queue name unique to this test process, so test files never steal each other's tasks. */
export function uniqueTaskQueue(label: string): string {
  counter += 1;
  return `test-${label}-${process.pid}-${counter}`;
}
