// Lint rules, including the dependency direction the style guide asks for:
// pure plans never import the AWS SDK, pacote or node:fs; commands never import the AWS SDK or pacote.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const ioModules = ['@aws-sdk/*', 'pacote', 'node:fs', 'node:fs/promises', 'fs', 'fs/promises']

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'bench/.work/**', 'coverage/**', '.layers/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly', URL: 'readonly'}},
  },
  {
    // Lambda function and layer code (examples, test fixtures): Node.js CommonJS or ESM as Lambda runs it.
    files: ['examples/**/*.js', 'examples/**/*.mjs', 'test/**/corpus/**/*.js', 'templates/**/*.js', 'templates/**/*.mjs'],
    languageOptions: {
      globals: {exports: 'writable', module: 'writable', require: 'readonly', process: 'readonly', Buffer: 'readonly', __dirname: 'readonly', fetch: 'readonly', setTimeout: 'readonly'},
    },
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    files: ['src/**/plan.ts', 'src/**/plan-*.ts', 'src/**/*.plan.ts'],
    rules: {'no-restricted-imports': ['error', {patterns: ioModules}]},
  },
  {
    files: ['commands/**/*.ts'],
    rules: {'no-restricted-imports': ['error', {patterns: ['@aws-sdk/*', 'pacote']}]},
  },
)
