// `npm run temporal:cli`: find or build the Temporal CLI and print where it came from.
import { findTemporalCli } from './temporal-cli';

try {
  const cli = await findTemporalCli();
  console.log(`Temporal CLI from ${cli.source}: ${cli.path} (${cli.version.split('\n')[0]})`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
