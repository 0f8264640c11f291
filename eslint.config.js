import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Every built-in this Node knows (and its subpaths): a new one cannot slip into workflow code.
const NODE_BUILTINS = builtinModules
  .filter((name) => !name.startsWith('_'))
  .flatMap((name) => [name, `${name}/*`]);
const noIoMessage =
  "Workflows run in Temporal's deterministic sandbox: no Node built-ins, network or files; move I/O into an activity.";

// What workflows/ may import: @temporalio/workflow, @temporalio/common, other workflows/ files, core/, and
// *types* from api/ and activities/ (for proxyActivities<typeof activities>).
const workflowImports = {
  patterns: [
    { group: ['node:*', ...NODE_BUILTINS], message: noIoMessage },
    {
      group: ['undici', 'undici/*', 'eventsource-parser', 'yaml', 'zod', 'zod/*', 'commander'],
      message: noIoMessage,
    },
    {
      group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'],
      message: 'Workflows may only use @temporalio/workflow and @temporalio/common.',
    },
    {
      group: ['../api/*', '!../api/types'],
      message: 'Workflows may import api/ types only (import type).',
      allowTypeImports: true,
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
      message: 'Workflows may import only workflows/, api/ types and activity types (import type).',
      allowTypeImports: true,
    },
  ],
};

export default tseslint.config(
  {
    ignores: ['node_modules/**', '**/node_modules/**', 'dist/**', 'bench/results/**', '.coasty-temporal/**'],
  },
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
    // A promise nobody awaits: in a workflow, a command whose failure nobody sees; in an activity, work
    // that outlives its attempt. Typed linting, on the two folders where it costs most.
    files: ['workflows/**/*.ts', 'activities/**/*.ts'],
    languageOptions: {
      parserOptions: {
        // probe.ts: the source test/unit/workflow-lint.test.ts lints as if it were workflow code.
        projectService: { allowDefaultProject: ['workflows/probe.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    // Activities sit below workflows: what both need lives in core/.
    files: ['activities/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../workflows', '../workflows/*'],
              message: 'Activities may import workflows/ types only; a value both need belongs in core/.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // core/ sits below every layer, workflows included: pure code that imports only core/.
    files: ['core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', ...NODE_BUILTINS], message: noIoMessage },
            { group: ['@*', '*', '!./*'], message: 'core/ is pure: it imports other core/ files only.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'require', 'fetch', 'setInterval', 'Buffer'],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowImports],
      'no-restricted-globals': ['error', 'process', 'require', 'fetch', 'setInterval', 'Buffer'],
    },
  },
);
