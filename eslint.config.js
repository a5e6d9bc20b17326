// ESLint: typescript-eslint's recommended rules, lines of at most 120 characters, and the stage
// boundaries: code outside a stage imports it only through its index.ts.
'use strict';
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const STAGES = 'target|releases|fetch|verify|install|build|backup|schedule|net';
const boundaries = {
  patterns: [
    {
      regex: `^(\\.\\./)+(${STAGES})/.+`,
      message: 'import another stage through its index (e.g. ../install), never one of its files',
    },
  ],
};

module.exports = tseslint.config(
  { ignores: ['dist/**', 'dist-check/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Prettier wraps the code at 120; a user-visible message stays whole on its line, so that it
      // can be found by searching for what the user saw.
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': ['error', boundaries] } },
  {
    // oclif loads every command class to know its flags, so a stage imported at the top of a
    // command (or of the CLI helpers they share) would load on every start, whatever the command.
    // Commands load their stages inside run(); types may be imported anywhere.
    files: ['src/commands/**/*.ts', 'src/cli/**/*.ts'],
    ignores: ['src/cli/sea-main.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${STAGES})$`,
              allowTypeImports: true,
              message:
                'load a stage inside run() with await import(), so that starting one command does not load them all',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        __filename: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      'max-len': ['error', { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true }],
    },
  },
);
