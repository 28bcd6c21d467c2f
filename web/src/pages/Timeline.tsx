import { useEffect, useState } from 'preact/hooks';
import { call, type User } from '../api.js';
import { useResource } from '../hooks.js';
import { stageName, type Stage } from '../model.js';
import { dateTime, ProblemMessage } from '../ui.js';

interface HistoryEntry {
  event_id: string;
  type: string;
  at: string;
  version: number;
  actor: { subject: string; role?: string };
  from?: string;
  to?: string;
  rollback?: boolean;
  changes?: Record<string, { from: unknown; to: unknown }>;
}

const LABELS: Record<string, string> = { ClientCreated: 'Created', ClientUpdated: 'Changed', ClientStageChanged: 'Stage changed', ClientDeleted: 'Deleted' };
const show = (value: unknown) => (value === null || value === undefined ? '—' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** The client's timeline, newest first, with who did it (the user's name when the users list can say). */
export function Timeline({ id, stages, stamp }: { id: string; stages: Stage[] | undefined; stamp: number }) {
  const history = useResource(`history:${id}:${stamp}`, async () => (await call<HistoryEntry[]>('GET', `clients/${encodeURIComponent(id)}/history`)).data, 5_000);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    call<User[]>('GET', 'users', { query: { limit: 500 } }).then(
      (answer) => setNames(new Map(answer.data.map((u) => [u.id, u.name]))),
      () => undefined,
    );
  }, []);
  if (!history.data) return <ProblemMessage error={history.error} />;
  const entries = [...history.data].sort((a, b) => b.version - a.version);
  return (
    <ol class="timeline">
      {entries.map((e) => (
        <li key={e.event_id}>
          <div>
            <strong>{LABELS[e.type] ?? e.type}</strong>
            {e.type === 'ClientStageChanged' && (
              <>
                {' '}
                {stageName(stages, e.from ?? '')} → {stageName(stages, e.to ?? '')}
                {e.rollback && <span class="tag">rollback</span>}
              </>
            )}
          </div>
          <div class="meta">
            <time dateTime={e.at}>{dateTime(e.at)}</time> by <span class="actor">{names.get(e.actor.subject) ?? e.actor.subject}</span>
            {e.actor.role ? ` (${e.actor.role.replace('_', ' ')})` : ''}
          </div>
          {e.changes && Object.keys(e.changes).length > 0 && (
            <ul class="changes">
              {Object.entries(e.changes).map(([field, change]) => (
                <li key={field}>
                  {field}: {show(change.from)} → {show(change.to)}
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}
