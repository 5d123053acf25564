// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import { layerRules } from './eslint.layers.js'

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'client/dist/', 'dist-test/', 'data/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Type-aware rules: a promise is awaited, returned or handled, never dropped or passed where a
    // callback's result is ignored (Hocuspocus does not await some hooks; see docs/ARCHITECTURE.md).
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  ...layerRules,
  {
    files: ['server/bin/**', 'bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
)
