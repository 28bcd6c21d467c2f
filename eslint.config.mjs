import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { dependencyDirection } from './scripts/lint/dependency-direction.mjs';

export default tseslint.config(
  { ignores: ['**/dist/**', 'coverage/**', '.local/**', 'node_modules/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'off',
    },
  },
  {
    // services never import each other, and shared code never imports a service; tests may
    // start several services in one process (as the gateway's write tests do)
    files: ['services/*/src/**/*.{ts,mts,js,mjs}', 'libs/*/src/**/*.{ts,mts,js,mjs}'],
    plugins: { trackme: { rules: { 'dependency-direction': dependencyDirection } } },
    rules: { 'trackme/dependency-direction': 'error' },
  },
  {
    // tests read JSON answers loosely; production code keeps the rule
    files: ['**/test/**/*.ts', 'libs/testkit/src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // configuration is read once at boot by loadConfig; nothing else reads process.env
    files: ['services/*/src/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through the service config (loadConfig).' }],
    },
  },
);
