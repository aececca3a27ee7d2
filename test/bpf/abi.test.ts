// The TypeScript encoding of keys and values is checked against the C layout through the BPF
// object's BTF, and the checker itself must notice a difference.
import test from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless, bpfObjectPath } from '../lib/capabilities.ts';
import { BpfObject } from '../../src/datapath/bpf.ts';
import { abiDifferences, EXPECTED_STRUCTS } from '../../src/datapath/abi.ts';

const skip = skipUnless('bpf');

test('B04 the TS mirror of every ABI struct and enum matches the BTF of iro_remap.o', { skip }, () => {
  const obj = BpfObject.open(bpfObjectPath('iro_remap'));
  try {
    assert.deepEqual(abiDifferences(obj.btf()), []);
  } finally {
    obj.close();
  }
});

test('B04 the ABI check reports a struct that drifted', { skip }, () => {
  const obj = BpfObject.open(bpfObjectPath('iro_remap'));
  try {
    const btf = obj.btf();
    const rule = btf.structs.iro_rule!;
    rule.members[1]!.offset = 8;
    btf.enums.iro_stat!.IRO_STAT_REDIRECT = 99;
    const diffs = abiDifferences(btf);
    assert.ok(diffs.some((d) => /iro_rule\.slot: offset 8 in C, 4 in TS/.test(d)), diffs.join('\n'));
    assert.ok(diffs.some((d) => /IRO_STAT_REDIRECT: 99 in C/.test(d)));
    assert.ok(Object.keys(EXPECTED_STRUCTS).length >= 9);
  } finally {
    obj.close();
  }
});
