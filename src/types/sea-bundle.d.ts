// Provided by scripts/build-sea.js when the single executable is bundled (see there).
declare module 'autocomplete-commands' {
  import type { Command } from '@oclif/core';
  export const autocomplete: Command.Class;
  export const create: Command.Class;
  export const script: Command.Class;
}
