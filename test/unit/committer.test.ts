// The committer's bookkeeping, with a broker of our own making: batches are reported only
// once a commit at or beyond them was accepted; a refusal is retried while the partition is
// held and dropped when it is not; one commit per partition is in flight at a time.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CommitRefusedError } from '../../src/contract/errors.js';
import { Committer, type CommitTarget } from '../../src/kafka/committer.js';

interface Sent {
  offset: string;
  accept: () => void;
  refuse: (message: string) => void;
}

function harness() {
  const sent: Sent[] = [];
  const committed: { offset: bigint; reports: unknown[] }[] = [];
  const refused: bigint[] = [];
  const committer = new Committer({
    send: (_topic, _partition, offset) =>
      new Promise<void>((resolve, reject) => sent.push({ offset, accept: resolve, refuse: (m) => reject(new CommitRefusedError(m, { retriable: true })) })),
    committed: (_target, offset, reports) => committed.push({ offset, reports: [...reports] }),
    refused: (_target, offset) => refused.push(offset),
    maxBackoffMs: 20,
    logger: pino({ level: 'silent' }),
  });
  return { committer, sent, committed, refused };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('committer', () => {
  it('reports batches only once the broker accepted a commit covering them, one commit in flight at a time', async () => {
    const { committer, sent, committed } = harness();
    const target: CommitTarget = { topic: 't', partition: 0, owned: () => true };
    committer.decided('t/0', target, 10n, 'batch 0-9');
    committer.decided('t/0', target, 20n, 'batch 10-19');
    expect(sent.map((s) => s.offset)).toEqual(['10']);
    sent[0]?.accept();
    await settle();
    expect(committed).toEqual([{ offset: 10n, reports: ['batch 0-9'] }]);
    // The second batch goes out once the first answer is in.
    expect(sent.map((s) => s.offset)).toEqual(['10', '20']);
    sent[1]?.accept();
    await settle();
    expect(committed[1]).toEqual({ offset: 20n, reports: ['batch 10-19'] });
  });

  it('retries a refused commit while the partition is held, and never reports it until accepted', async () => {
    const { committer, sent, committed, refused } = harness();
    const target: CommitTarget = { topic: 't', partition: 0, owned: () => true };
    committer.decided('t/0', target, 10n, 'batch');
    sent[0]?.refuse('Broker: Specified group generation id is not valid');
    await new Promise((r) => setTimeout(r, 60));
    expect(refused).toEqual([10n]);
    expect(committed).toEqual([]);
    expect(sent.map((s) => s.offset)).toEqual(['10', '10']);
    sent[1]?.accept();
    await settle();
    expect(committed).toEqual([{ offset: 10n, reports: ['batch'] }]);
  });

  it('drops a refused commit of a partition no longer held, and a drain reports what stayed uncommitted', async () => {
    const { committer, sent, committed } = harness();
    let held = true;
    const gone: CommitTarget = { topic: 't', partition: 0, owned: () => held };
    const stuck: CommitTarget = { topic: 't', partition: 1, owned: () => true };
    committer.decided('t/0', gone, 10n, 'a');
    committer.decided('t/1', stuck, 5n, 'b');
    held = false;
    sent[0]?.refuse('Broker: Unknown member');
    await new Promise((r) => setTimeout(r, 60));
    expect(sent.filter((s) => s.offset === '10')).toHaveLength(1); // not tried again
    const uncommitted = await committer.drain(100);
    expect(uncommitted).toEqual([{ topic: 't', partition: 1, offset: '5' }]);
    expect(committed).toEqual([]);
  });

  it('flush sends at once a commit waiting to retry a refusal, and none for a partition already sending or settled', async () => {
    const sent: Sent[] = [];
    const committer = new Committer({
      send: (_topic, _partition, offset) =>
        new Promise<void>((resolve, reject) => sent.push({ offset, accept: resolve, refuse: (m) => reject(new CommitRefusedError(m, { retriable: true })) })),
      committed: () => undefined,
      refused: () => undefined,
      maxBackoffMs: 60_000, // a retry this slow would not come within the test
      logger: pino({ level: 'silent' }),
    });
    const held = (partition: number): CommitTarget => ({ topic: 't', partition, owned: () => true });
    committer.decided('t/0', held(0), 10n, 'refused in a rebalance');
    committer.decided('t/1', held(1), 7n, 'in flight');
    committer.decided('t/2', held(2), 3n, 'accepted');
    sent[0]?.refuse('Broker: Specified group generation id is not valid');
    sent[2]?.accept();
    await settle();
    expect(sent.map((s) => s.offset)).toEqual(['10', '7', '3']);
    committer.flush(); // a rebalance callback: the new generation is valid now
    expect(sent.map((s) => s.offset)).toEqual(['10', '7', '3', '10']);
    sent[3]?.accept();
    sent[1]?.accept();
    expect(await committer.drain(100)).toEqual([]);
  });
});
