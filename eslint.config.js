import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no network, no I/O.
const workflowForbiddenImports = {
  patterns: [
    { group: ['node:*'], message: 'Workflows must not use Node built-ins: move I/O into an activity.' },
    {
      group: [
        'fs',
        'fs/*',
        'path',
        'os',
        'crypto',
        'http',
        'https',
        'net',
        'child_process',
        'url',
        'stream',
        'worker_threads',
        'dns',
        'tls',
        'zlib',
      ],
      message: 'Workflows must not use Node built-ins: move I/O into an activity.',
    },
    {
      group: ['undici', 'undici/*', 'eventsource-parser', 'yaml', 'zod', 'commander'],
      message: 'Workflows must not do I/O or parse files: do it in an activity or the client.',
    },
    {
      group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker'],
      message: 'Workflows may only use @temporalio/workflow.',
    },
    {
      group: [
        '../activities',
        '../activities/*',
        '../client',
        '../client/*',
        '../emulator',
        '../emulator/*',
        '../dev',
        '../dev/*',
        '../worker',
        '../worker/*',
      ],
      message: 'Workflows may import only workflows/ and api/ types.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'bench/results/**', '.coasty-temporal/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', workflowForbiddenImports],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../api/*', '!../api/types'],
              message: 'Workflows may import api/ types only (import type).',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'require', 'fetch', 'setInterval'],
    },
  },
);
