// The stand-ins' state: one JSON file each, named by an environment variable the test sets.
'use strict';
const fs = require('node:fs');

function load(variable, initial) {
  const file = process.env[variable];
  if (!file) {
    process.stderr.write(`stand-in: ${variable} is not set\n`);
    process.exit(99);
  }
  const state = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : initial;
  return { state, save: () => fs.writeFileSync(file, JSON.stringify(state, null, 2)) };
}

/** A refused call: recorded (the test fails on any), said on stderr like the real tool, exit code. */
function refuse(st, message, code = 1) {
  st.state.errors.push(message);
  st.save();
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

module.exports = { load, refuse };
