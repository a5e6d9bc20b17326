// Placeholder: replaced by the detect issue's real command.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base';
import { BadInputError } from '../errors';

export default class Detect extends BaseCommand {
  static override summary = 'Report the target libc, arch, OS and exec-capable paths';
  static override flags = { libc: Flags.string({ description: 'analyse this libc file' }) };

  async run(): Promise<object> {
    const { flags } = await this.parse(Detect);
    if (flags.libc) throw new BadInputError(`not implemented: ${flags.libc}`);
    return {};
  }
}
