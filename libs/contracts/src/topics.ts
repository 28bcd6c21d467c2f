/**
 * Every Kafka topic trackme uses, declared once. `npm run topics` creates them on the broker
 * (auto-create is off), adding a `.dlq` twin for each topic a service consumes.
 */
export const Topics = {
  clientCommands: 'trackme.client-commands',
  commandReplies: 'trackme.command-replies',
  clientEvents: 'trackme.client-events',
  activity: 'trackme.activity',
  metricsCommands: 'trackme.metrics-commands',
} as const;


export const DEFAULT_PARTITIONS = 6;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface TopicDeclaration {
  name: string;
  partitions: number;
  retentionMs: number;
  /** consumed by a trackme service, so poison messages need a dead-letter twin */
  consumed: boolean;
  description: string;
}

export const TOPIC_DECLARATIONS: readonly TopicDeclaration[] = [
  {
    name: Topics.clientCommands,
    partitions: DEFAULT_PARTITIONS,
    retentionMs: 7 * DAY_MS,
    consumed: true,
    description: 'Commands from the gateway to the clients service, keyed by client id.',
  },
  {
    name: Topics.commandReplies,
    partitions: DEFAULT_PARTITIONS,
    // replies only matter while a gateway waits; a day is plenty for operations lookups
    retentionMs: DAY_MS,
    consumed: true,
    description: 'Outcome of each command, read by the gateway instance that sent it.',
  },
  {
    name: Topics.clientEvents,
    partitions: DEFAULT_PARTITIONS,
    retentionMs: 30 * DAY_MS,
    consumed: true,
    description: 'Change events of clients (created, updated, stage changed, deleted, activity).',
  },
  {
    name: Topics.activity,
    partitions: DEFAULT_PARTITIONS,
    retentionMs: 7 * DAY_MS,
    consumed: true,
    description: 'Activity published by other systems: logins, app installs, autopayment changes.',
  },
  {
    name: Topics.metricsCommands,
    partitions: 1,
    retentionMs: 7 * DAY_MS,
    consumed: true,
    description: 'Rollup requests from the gateway to the metrics service.',
  },
];

/** Dead-letter twin of a consumed topic. */
export const dlqTopicOf = (topic: string): string => `${topic}.dlq`;

/** Every topic to create, the dead-letter twins included (kept 30 days for inspection and replay). */
export function allTopicDeclarations(
  declarations: readonly TopicDeclaration[] = TOPIC_DECLARATIONS,
): TopicDeclaration[] {
  return declarations.flatMap((t) =>
    t.consumed
      ? [
          t,
          {
            name: dlqTopicOf(t.name),
            partitions: 1,
            retentionMs: 30 * DAY_MS,
            consumed: false,
            description: `Dead letters of ${t.name}: original bytes and headers plus the reason.`,
          },
        ]
      : [t],
  );
}
