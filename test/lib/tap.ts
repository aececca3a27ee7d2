// Reads the closing counts of node's TAP reporter (and the names of skipped tests, so the
// summary can show what did not run and why).
export interface TapSummary {
  tests: number;
  pass: number;
  fail: number;
  cancelled: number;
  skipped: number;
  todo: number;
  skippedNames: string[];
}

export function parseTapSummary(tap: string): TapSummary {
  const num = (key: string): number => {
    const m = tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'));
    return m ? Number(m[1]) : 0;
  };
  const skippedNames: string[] = [];
  for (const m of tap.matchAll(/^\s*ok \d+ - (.*?) # SKIP(.*)$/gm)) skippedNames.push(`${m[1]}${m[2] ? ` —${m[2]}` : ''}`);
  return {
    tests: num('tests'),
    pass: num('pass'),
    fail: num('fail'),
    cancelled: num('cancelled'),
    skipped: num('skipped'),
    todo: num('todo'),
    skippedNames,
  };
}

export function addSummaries(a: TapSummary, b: TapSummary): TapSummary {
  return {
    tests: a.tests + b.tests,
    pass: a.pass + b.pass,
    fail: a.fail + b.fail,
    cancelled: a.cancelled + b.cancelled,
    skipped: a.skipped + b.skipped,
    todo: a.todo + b.todo,
    skippedNames: [...a.skippedNames, ...b.skippedNames],
  };
}
