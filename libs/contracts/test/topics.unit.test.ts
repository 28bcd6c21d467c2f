import { describe, expect, it } from 'vitest';
import { allTopicDeclarations, DEFAULT_PARTITIONS, dlqTopicOf, Topics, TOPIC_DECLARATIONS } from '../src/index.js';

describe('topic declarations', () => {
  it('declares every topic name exactly once', () => {
    const names = TOPIC_DECLARATIONS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(Object.values(Topics).sort());
  });

  it('gives every consumed topic a dead-letter twin', () => {
    const all = allTopicDeclarations().map((t) => t.name);
    for (const topic of TOPIC_DECLARATIONS.filter((t) => t.consumed)) expect(all).toContain(dlqTopicOf(topic.name));
    expect(all).toContain('trackme.activity.dlq');
  });

  it('partitions keyed topics by the default count', () => {
    const events = TOPIC_DECLARATIONS.find((t) => t.name === Topics.clientEvents);
    expect(events?.partitions).toBe(DEFAULT_PARTITIONS);
    expect(DEFAULT_PARTITIONS).toBe(6);
  });
});
