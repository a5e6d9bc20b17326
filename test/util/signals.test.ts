// A child's end as a shell's exit status: what `backup shell` and `backup borg` exit with.
import { exitStatus, signalNumber } from '../../src/util/signals';

it('is the code when the child exited, else 128 + the number of the signal that ended it', () => {
  expect(exitStatus(0, null)).toBe(0);
  expect(exitStatus(3, null)).toBe(3);
  expect(exitStatus(null, 'SIGTERM')).toBe(143);
  expect(exitStatus(null, 'SIGINT')).toBe(130);
  expect(exitStatus(null, 'SIGKILL')).toBe(137);
  // Neither a code nor a signal (Node never reports that): a failure, not a success.
  expect(exitStatus(null, null)).toBe(1);
});

it('a signal name this system does not know has number 0', () => {
  expect(signalNumber('SIGHUP')).toBe(1);
  expect(signalNumber('SIGNOTONE' as NodeJS.Signals)).toBe(0);
});
