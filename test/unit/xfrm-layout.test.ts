// Every struct size and field offset our XFRM codec uses, checked against linux/xfrm.h by a
// C probe compiled with gcc (the header, not our reading of it, is the authority).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XFRM_LAYOUTS } from '../../src/kernel/xfrm/layout.ts';

function haveGcc(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v gcc'], { stdio: 'ignore' });
    return existsSync('/usr/include/linux/xfrm.h');
  } catch {
    return false;
  }
}

test('xfrm struct sizes and offsets equal the C layout of /usr/include/linux/xfrm.h', { skip: haveGcc() ? false : 'gcc or linux uapi headers missing' }, () => {
  const lines: string[] = [];
  for (const [struct, fields] of Object.entries(XFRM_LAYOUTS)) {
    for (const f of Object.keys(fields)) {
      const expr = f === 'size' ? `sizeof(struct ${struct})` : `offsetof(struct ${struct}, ${f})`;
      lines.push(`  printf("%s.%s=%zu\\n", "${struct}", "${f}", (size_t)${expr});`);
    }
  }
  const src = `#include <stdio.h>\n#include <stddef.h>\n#include <linux/xfrm.h>\nint main(void) {\n${lines.join('\n')}\n  return 0;\n}\n`;
  const dir = mkdtempSync(join(tmpdir(), 'iro-xfrm-layout-'));
  try {
    writeFileSync(join(dir, 'probe.c'), src);
    execFileSync('gcc', ['-o', join(dir, 'probe'), join(dir, 'probe.c')]);
    const out = execFileSync(join(dir, 'probe')).toString();
    const actual = new Map(out.trim().split('\n').map((l) => l.split('=') as [string, string]));
    const mismatches: string[] = [];
    for (const [struct, fields] of Object.entries(XFRM_LAYOUTS)) {
      for (const [f, v] of Object.entries(fields)) {
        const c = Number(actual.get(`${struct}.${f}`));
        if (c !== v) mismatches.push(`${struct}.${f}: ours ${v}, C ${c}`);
      }
    }
    assert.deepEqual(mismatches, []);
    assert.equal(Number(actual.get('xfrm_usersa_info.size')), 224, 'xfrm_usersa_info is 224 bytes on x86_64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
