// Two projects: `unit` runs src/ through ts-jest and needs no build; `e2e` runs the built CLI (as
// a subprocess, with real borg, sshd, gpg and the stand-ins), the npm package and the single
// executable, so it needs `npm run dist` first (npm test does that).
// `npx jest test/target` or `npx jest --selectProjects unit` work on a fresh clone.
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/!(e2e)/**/*.test.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
  // Subprocess and gpg tests are slow on a 2-core machine; each test file sets tighter bounds itself.
  testTimeout: 60000,
  maxWorkers: 2,
};
