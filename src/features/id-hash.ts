// A 53-bit hash of an identifier: transaction ids in the dedupe state, entities and transactions in the journal.

/**
 * A 53-bit hash of a transaction id (two 32-bit multiply-xorshift lanes, combined): the state
 * keeps 8 bytes per applied id instead of the id. Two distinct ids of one entity collide in
 * the same dedupe bucket with probability about n²/2^54 for n ids in it (below 10^-7 for
 * 50,000), which would make the later one count as a duplicate.
 */
export function idHash(id: string): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0xcc9e2d51);
    b = Math.imul(b ^ c, 0x1b873593);
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  return (b & 0x1fffff) * 0x100000000 + (a >>> 0);
}
