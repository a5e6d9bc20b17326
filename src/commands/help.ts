// `borg-provision help [COMMAND]`: the same help as --help, as a command (oclif's own renderer).
import { Args, Command, loadHelpClass } from '@oclif/core';

export default class Help extends Command {
  static override summary = 'Show help for borg-provision or one of its commands';
  static override strict = false;
  static override args = { command: Args.string({ description: 'the command (and subcommand) to explain' }) };
  static override examples = [
    '<%= config.bin %> help',
    '<%= config.bin %> help install',
    '<%= config.bin %> help key refresh',
  ];

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions).showHelp(argv as string[]);
  }
}
