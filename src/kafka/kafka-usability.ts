// Whether Kafka, as the worker's clients see it, can be used: not while a client's statistics
// have said, twice running (2 s apart), that it cannot work — an assigned partition without a
// reachable leader (it can read nothing from it), or most of the cluster's brokers down (its
// writes cannot find their in-sync replicas). A worker with no traffic sees no error of its
// own, and would otherwise stay ready through such an outage.
import type { Logger } from '../observability/logger.js';
import { impaired, type ClientHealth } from './client-stats.js';

export class KafkaUsability {
  /** Per client, whether its last two statistics said it cannot work. */
  private readonly impairment = new Map<string, [boolean, boolean]>();

  constructor(private readonly logger: Logger) {}

  /** One client's latest statistics; true when Kafka's usability changed with them. */
  note(client: string, health: ClientHealth): boolean {
    const [, last] = this.impairment.get(client) ?? [false, false];
    const wasBlind = this.blind();
    this.impairment.set(client, [last, impaired(health)]);
    const blind = this.blind();
    if (blind === wasBlind) return false;
    if (blind) this.logger.warn({ client, ...health }, 'Kafka is not usable (partitions without a reachable leader, or most brokers down); not ready until it is');
    else this.logger.info({ client }, 'Kafka is usable again');
    return true;
  }

  /** Some client has said twice running that it cannot work. */
  blind(): boolean {
    return [...this.impairment.values()].some(([a, b]) => a && b);
  }
}
