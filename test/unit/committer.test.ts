// The committer's bookkeeping, with a broker of our own making: batches are reported only
// once a commit at or beyond them was accepted; a refusal is retried while the partition is
// held and dropped when it is not; one commit per partition is in flight at a time; the
// commits due within the interval go out in one request.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CommitRefusedError } from '../../src/contract/errors.js';
import { Committer, type CommitRequest, type CommitTarget } from '../../src/kafka/committer.js';

interface Sent {
  /** Which request it was sent in. */
  request: number;
  partition: number;
  offset: string;
  accept: () => void;
  refuse: (message: string) => void;
}

/** A broker of our own: each request's commits are answered one by one by the test. */
function broker(): { sent: Sent[]; send: (requests: readonly CommitRequest[]) => Promise<void>[] } {
  const sent: Sent[] = [];
  let requests = 0;
  const send = (batch: readonly CommitRequest[]): Promise<void>[] => {
    const request = requests++;
    return batch.map(
      ({ partition, offset }) =>
        new Promise<void>((resolve, reject) => sent.push({ request, partition, offset, accept: resolve, refuse: (m) => reject(new CommitRefusedError(m, { retriable: true })) })),
    );
  };
  return { sent, send };
}

function harness(intervalMs = 0) {
  const { sent, send } = broker();
  const committed: { offset: bigint; reports: unknown[] }[] = [];
  const refused: bigint[] = [];
  const committer = new Committer({
    send,
    committed: (_target, offset, reports) => committed.push({ offset, reports: [...reports] }),
    refused: (_target, offset) => refused.push(offset),
    maxBackoffMs: 20,
    intervalMs,
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
    const { sent, send } = broker();
    const committer = new Committer({
      send,
      committed: () => undefined,
      refused: () => undefined,
      maxBackoffMs: 60_000, // a retry this slow would not come within the test
      intervalMs: 0,
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

  it('gathers the commits due within the interval into one request, each partition at its last decided offset', async () => {
    const { committer, sent, committed } = harness(30);
    const held = (partition: number): CommitTarget => ({ topic: 't', partition, owned: () => true });
    committer.decided('t/0', held(0), 10n, 'a');
    committer.decided('t/1', held(1), 4n, 'b');
    committer.decided('t/0', held(0), 20n, 'c');
    expect(sent).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(sent.map(({ request, partition, offset }) => ({ request, partition, offset }))).toEqual([
      { request: 0, partition: 0, offset: '20' },
      { request: 0, partition: 1, offset: '4' },
    ]);
    sent[0]?.accept();
    sent[1]?.refuse('Broker: Specified group generation id is not valid');
    await new Promise((r) => setTimeout(r, 100)); // the retry's backoff, then the interval
    expect(sent.map(({ request, partition, offset }) => ({ request, partition, offset })).slice(2)).toEqual([{ request: 1, partition: 1, offset: '4' }]);
    sent[2]?.accept();
    await settle();
    expect(committed).toEqual([
      { offset: 20n, reports: ['a', 'c'] },
      { offset: 4n, reports: ['b'] },
    ]);
    // A batch decided while a commit is in flight goes in the next request.
    committer.decided('t/1', held(1), 9n, 'd');
    await new Promise((r) => setTimeout(r, 60));
    expect(sent.slice(3).map(({ request, partition, offset }) => ({ request, partition, offset }))).toEqual([{ request: 2, partition: 1, offset: '9' }]);
  });

  it('sends at once what waits for the interval when drained or flushed', async () => {
    const { committer, sent } = harness(60_000);
    const held = (partition: number): CommitTarget => ({ topic: 't', partition, owned: () => true });
    committer.decided('t/0', held(0), 10n, 'a');
    expect(sent).toEqual([]);
    committer.flush(); // a rebalance callback
    expect(sent.map((s) => s.offset)).toEqual(['10']);
    sent[0]?.accept();
    await settle();
    committer.decided('t/1', held(1), 5n, 'b');
    const drained = committer.drain(1_000); // a stop
    expect(sent.map((s) => s.offset)).toEqual(['10', '5']);
    sent[1]?.accept();
    expect(await drained).toEqual([]);
  });
});
