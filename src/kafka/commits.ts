// Commits that count only once the broker has accepted them. The KafkaJS-compatible
// commitOffsets() of @confluentinc/kafka-javascript 1.10.1 resolves as soon as librdkafka has
// queued the commit; the broker's answer comes later, through librdkafka's offset-commit
// callback, which the package emits as `offset.commit` on its underlying client (served when
// the consumer polls). A commit here settles on that answer, or fails after a timeout.
import { CommitRefusedError } from '../contract/errors.js';
import type { Consumer } from './client.js';
import type { CommitRequest } from './committer.js';

interface CommitAnswerError {
  code: number;
  message: string;
}

interface CommittedOffset {
  topic: string;
  partition: number;
  offset?: number;
}

interface UnderlyingClient {
  on(event: 'offset.commit', listener: (err: CommitAnswerError | undefined, offsets: CommittedOffset[]) => void): unknown;
}

/** librdkafka's RD_KAFKA_RESP_ERR__NO_OFFSET: nothing to commit (the broker already has these offsets). */
const ERR_NO_OFFSET = -168;

interface Waiter {
  resolve: () => void;
  reject: (err: CommitRefusedError) => void;
  timer: NodeJS.Timeout;
}

const keyOf = (topic: string, partition: number, offset: string | number): string => `${topic}\u0000${partition}\u0000${offset}`;

export class ConfirmedCommits {
  private readonly waiting = new Map<string, Waiter[]>();
  /** Commits handed to the client but not yet in librdkafka's queue (the client queues them off the main thread). */
  private readonly queueing = new Set<Promise<void>>();

  /** `consumer` must be connected (its underlying client exists from then on). */
  constructor(
    private readonly consumer: Consumer,
    private readonly timeoutMs: number,
  ) {
    const underlying = (consumer as unknown as { _getInternalClient(): UnderlyingClient })._getInternalClient();
    underlying.on('offset.commit', (err, offsets) => this.answered(err, offsets));
  }

  /**
   * Commits each partition's `offset` (the next offset to read), all in one request; each
   * answer resolves once the broker accepted that partition's offset.
   */
  commit(requests: readonly CommitRequest[]): Promise<void>[] {
    const pending: { key: string; waiter: Waiter }[] = [];
    const answers = requests.map(
      ({ topic, partition, offset }) =>
        new Promise<void>((resolve, reject) => {
          const key = keyOf(topic, partition, offset);
          const timer = setTimeout(() => {
            this.settle(key, waiter, new CommitRefusedError(`no answer from the broker within ${this.timeoutMs} ms`, { retriable: true }));
          }, this.timeoutMs);
          const waiter: Waiter = { resolve, reject, timer };
          this.waiting.set(key, [...(this.waiting.get(key) ?? []), waiter]);
          pending.push({ key, waiter });
        }),
    );
    const queued = this.consumer.commitOffsets(requests.map(({ topic, partition, offset }) => ({ topic, partition, offset }))).catch((err: unknown) => {
      const e = err as { message?: string; retriable?: boolean };
      const refused = new CommitRefusedError(`commit not sent: ${e.message ?? String(err)}`, { retriable: e.retriable !== false, cause: err });
      for (const { key, waiter } of pending) this.settle(key, waiter, refused);
    });
    this.queueing.add(queued);
    void queued.finally(() => this.queueing.delete(queued));
    return answers;
  }

  /**
   * Resolves once every commit asked for so far is in librdkafka's queue. In a rebalance
   * callback this puts the commits ahead of the client's next JoinGroup: the broker answers a
   * connection's requests in order and holds a JoinGroup until the whole group has rejoined,
   * so a commit sent after it waits that long and is then refused for its old generation.
   */
  async queued(): Promise<void> {
    await Promise.all([...this.queueing]);
  }

  private answered(err: CommitAnswerError | undefined, offsets: CommittedOffset[]): void {
    const refused = err !== undefined && err.code !== ERR_NO_OFFSET ? new CommitRefusedError(`the broker refused the commit: ${err.message} (code ${err.code})`, { retriable: true, cause: err }) : undefined;
    for (const o of offsets) {
      if (o.offset === undefined) continue;
      const key = keyOf(o.topic, o.partition, o.offset);
      const first = this.waiting.get(key)?.[0];
      if (first !== undefined) this.settle(key, first, refused);
    }
  }

  /** Resolves (no error) or rejects one waiter and forgets it. */
  private settle(key: string, waiter: Waiter, err: CommitRefusedError | undefined): void {
    const list = this.waiting.get(key);
    const at = list?.indexOf(waiter) ?? -1;
    if (list === undefined || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.waiting.delete(key);
    clearTimeout(waiter.timer);
    if (err === undefined) waiter.resolve();
    else waiter.reject(err);
  }
}
