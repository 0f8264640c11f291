#!/usr/bin/env node
// The project runs its TypeScript sources directly through tsx: no build step between `npm install` and use.
import { register } from 'tsx/esm/api';

register();
await import('../client/cli.ts');
