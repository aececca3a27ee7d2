// The vm harness tests itself on the host: each case boots its own guest with fixture test
// files (test/vm/fixtures) and checks what the harness makes of the outcome. The cases run
// concurrently: the hang case spends most of its time waiting for its deadline.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { skipUnless } from '../../lib/capabilities.ts';
import { GUEST_MODULES } from '../boot.ts';
import { HANG_MARKER, TESTS_PER_PASS_FIXTURE } from '../fixtures/define.ts';
import { runGuestTests, type GuestRun } from '../harness.ts';

const skip = skipUnless('vm');
const fixture = (name: string) => `test/vm/fixtures/${name}.fixture.ts`;
const explain = (r: GuestRun) =>
  `problems: ${JSON.stringify(r.problems)}, exit ${r.exitCode}, summary ${JSON.stringify(r.summary)}\n` +
  `console tail:\n${r.boot.consoleTail.split('\n').slice(-25).join('\n')}`;

describe('vm harness', { concurrency: true }, () => {
  test('a failing guest test fails the run; a module that cannot load is reported, not fatal', { skip, timeout: 600_000 }, async () => {
    const r = await runGuestTests([fixture('fail')], { timeoutS: 300, modules: [...GUEST_MODULES, 'iro_no_such_module'] });
    assert.deepEqual(r.problems, [], explain(r));
    assert.notEqual(r.exitCode, 0, explain(r));
    assert.equal(r.summary.tests, 2, explain(r));
    assert.equal(r.summary.fail, 1, explain(r));
    assert.equal(r.summary.pass, 1, explain(r));
    assert.match(r.boot.tap ?? '', /^not ok \d+ - fixture fails on purpose$/m);
    assert.deepEqual(r.boot.modulesFailed, ['iro_no_such_module']);
  });

  test('a hung guest is killed at its deadline and fails with its console tail', { skip, timeout: 600_000 }, async () => {
    const deadlineS = 90;
    const started = Date.now();
    const r = await runGuestTests([fixture('hang')], { timeoutS: deadlineS });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.boot.timedOut, true, explain(r));
    // Proof that the guest was inside the hanging test, not stuck before it.
    assert.ok(r.boot.consoleTail.includes(HANG_MARKER), `the guest never reached the hanging test within ${deadlineS} s\n${explain(r)}`);
    assert.notEqual(r.exitCode, 0);
    assert.ok(r.summary.fail >= 1, explain(r));
    assert.match(r.problems.join('\n'), new RegExp(`killed at the ${deadlineS} s deadline`));
    assert.ok(seconds < deadlineS + 20, `killed after ${seconds.toFixed(1)} s, deadline ${deadlineS} s`);
  });

  test('results of many files in one boot are all counted', { skip, timeout: 900_000 }, async () => {
    const files = [1, 2, 3, 4, 5, 6].map((n) => fixture(`pass-${n}`));
    const r = await runGuestTests(files, { timeoutS: 600 });
    assert.deepEqual(r.problems, [], explain(r));
    assert.equal(r.exitCode, 0, explain(r));
    const expected = files.length * TESTS_PER_PASS_FIXTURE;
    assert.equal(r.summary.tests, expected, explain(r));
    assert.equal(r.summary.pass, expected, explain(r));
    assert.equal(r.summary.skipped, 0, explain(r));
    for (let n = 1; n <= files.length; n++) {
      for (let i = 1; i <= TESTS_PER_PASS_FIXTURE; i++) {
        assert.match(r.boot.tap ?? '', new RegExp(`^\\s*ok \\d+ - fixture ${n}\\.${i} `, 'm'), `result of fixture ${n}.${i} missing`);
      }
    }
  });
});
