// At worker start: the namespace must have CoastyStatus (Keyword), or every workflow task that
// upserts it fails, retried forever, and the workflows never move.
import type { NativeConnection } from '@temporalio/worker';
import { coastyStatusKey } from '../workflows/messages';

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const INDEXED_VALUE_TYPE_KEYWORD = 2;

export class MissingSearchAttributeError extends Error {
  override readonly name = 'MissingSearchAttributeError';
  constructor(
    readonly namespace: string,
    /** The command that creates the attribute. */
    readonly command: string,
    found?: string,
  ) {
    super(
      `Namespace "${namespace}" ${found ? `has ${coastyStatusKey.name} as ${found}, not Keyword` : `has no search attribute ${coastyStatusKey.name}`}, ` +
        'which coasty-temporal workflows write (their workflow tasks would fail until it exists). ' +
        `Create it:\n  ${command}\n` +
        'or switch search attributes off: new CoastyPlugin({ searchAttributes: false }).',
    );
  }
}

export function createSearchAttributeCommand(namespace: string): string {
  const ns = namespace === 'default' ? '' : `--namespace ${namespace} `;
  return `temporal operator search-attribute create ${ns}--name ${coastyStatusKey.name} --type Keyword`;
}

/** Throws MissingSearchAttributeError; when the server will not say (no permission), warns and goes on. */
export async function checkSearchAttributes(
  connection: NativeConnection,
  namespace: string,
  warn: (message: string) => void,
): Promise<void> {
  let attributes: Record<string, number>;
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    attributes = { ...response.systemAttributes, ...response.customAttributes } as Record<string, number>;
  } catch (error) {
    warn(
      `coasty-temporal could not list the search attributes of namespace "${namespace}" (${(error as Error).message}); ` +
        `make sure ${coastyStatusKey.name} (Keyword) exists: ${createSearchAttributeCommand(namespace)}`,
    );
    return;
  }
  const type = attributes[coastyStatusKey.name];
  if (type === INDEXED_VALUE_TYPE_KEYWORD) return;
  throw new MissingSearchAttributeError(
    namespace,
    createSearchAttributeCommand(namespace),
    type === undefined ? undefined : `indexed type ${type}`,
  );
}
