#!/usr/bin/env node
// docs/commands.md from the commands themselves (oclif's own help renderer over the built CLI):
// `npm run docs` writes it; `--check` fails (exit 1) when the file is not what the commands say.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Config, Help } = require('@oclif/core');

const root = path.resolve(__dirname, '..');
const file = path.join(root, 'docs', 'commands.md');

class DocHelp extends Help {
  section(command) {
    return this.formatCommand(command);
  }
}

async function render() {
  const config = await Config.load({ root });
  const help = new DocHelp(config, { stripAnsi: true, maxWidth: 100 });
  const commands = config.commands
    .filter((c) => !c.hidden && c.pluginName === config.name)
    .sort((a, b) => a.id.localeCompare(b.id));
  const out = ['# Command reference', '', 'Generated from the commands by `npm run docs`; do not edit by hand.', ''];
  for (const c of commands)
    out.push(
      `## \`${config.bin} ${c.id.replace(/:/g, ' ')}\``,
      '',
      '```',
      help.section(c).replace(/\s+$/gm, ''),
      '```',
      '',
    );
  return out.join('\n');
}

render().then((text) => {
  if (!process.argv.includes('--check')) return fs.writeFileSync(file, text);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
    console.error('docs/commands.md is stale: run `npm run docs` and commit it');
    process.exit(1);
  }
});
