/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Subprocess and gpg tests are slow on a 2-core machine; each test file sets tighter bounds itself.
  testTimeout: 60000,
  maxWorkers: 2,
};
