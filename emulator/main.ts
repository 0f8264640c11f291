// Standalone entry: node --import tsx emulator/main.ts --port 0
import { emulatorCommand } from './command';

await emulatorCommand().parseAsync(process.argv);
