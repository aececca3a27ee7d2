// Address ownership tests in flight at the CN (IRO §4.4.2: "the CN must store the nonce locally
// for that MN along with the address being tested"), keyed by (HoA, tested address). A test
// stays 'pending' until its AOTR or aotcTtl (OP-5), then 'answered' for nonceKeepAfterBa so that
// retransmitted AOTRs are answered again (IRO §4.5.1, H07).
import type { Address } from '../types.ts';

export interface AddressTest {
  hoa: Address;
  /** The tested address: a CoA, or the HoA itself for a HoA test (IRO §4.5.3). */
  addr: Address;
  nonce: Buffer;
  state: 'pending' | 'answered';
  /** Our address the AOTC was sent from (the answer's source). */
  local: Address;
  /** Why it runs: a BU waits for it, an AOTO asked for it, a periodic HoA test. */
  forBu: boolean;
  forAoto: boolean;
  hoaTest: boolean;
}

export function testKey(hoa: Address, addr: Address): string {
  return `${hoa}|${addr}`;
}

export class AddressTests {
  private readonly tests = new Map<string, AddressTest>();

  get size(): number {
    return this.tests.size;
  }

  get(hoa: Address, addr: Address): AddressTest | undefined {
    return this.tests.get(testKey(hoa, addr));
  }

  set(test: AddressTest): void {
    this.tests.set(testKey(test.hoa, test.addr), test);
  }

  delete(hoa: Address, addr: Address): boolean {
    return this.tests.delete(testKey(hoa, addr));
  }

  /** Every test of one MN. */
  ofMn(hoa: Address): AddressTest[] {
    return [...this.tests.values()].filter((t) => t.hoa === hoa);
  }

  all(): IterableIterator<AddressTest> {
    return this.tests.values();
  }
}
