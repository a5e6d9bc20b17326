// Imported first by the single executable's entry, so it runs before @oclif/core loads. oclif's
// load-time engine check reads a package.json from the directory above its own file (in the
// executable: above the executable, wherever that is) to compare Node with `engines`; the
// executable carries its own Node, so there is nothing to check and no such file to read.
const VAR = 'OCLIF_DISABLE_ENGINE_WARNING';
const before = process.env[VAR];
process.env[VAR] = '1';

/** Puts the variable back as it was, so borg and hooks started later see the user's environment. */
export function restoreEngineCheckVariable(): void {
  if (before === undefined) delete process.env[VAR];
  else process.env[VAR] = before;
}
