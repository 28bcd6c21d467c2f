import { useEffect, useState } from 'preact/hooks';
import { call, mayWrite } from '../api.js';
import { useResource, useUser } from '../hooks.js';
import { loadStages, moveClient, movesFrom, type ClientView, type Stage } from '../model.js';
import { Link, MoveOptions, ProblemMessage } from '../ui.js';

const CARDS = 20;

interface Column {
  stage: Stage;
  total: number;
  clients: ClientView[];
}

/**
 * One column per configured stage with its count and first cards. A card moves with its "Move"
 * menu (keyboard) or by dragging it onto a column; both offer only what the process allows.
 */
export function BoardPage() {
  const user = useUser();
  const writer = mayWrite(user);
  const [stages, setStages] = useState<Stage[]>();
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState('');
  const [dragged, setDragged] = useState<ClientView>();
  useEffect(() => void loadStages().then(setStages, setError), []);
  const board = useResource(
    `board:${stages?.length ?? 0}`,
    async () =>
      stages
        ? Promise.all(
            stages.map(async (stage): Promise<Column> => {
              const answer = await call<ClientView[]>('GET', 'clients', { query: { stage: stage.id, limit: CARDS } });
              return { stage, total: answer.meta?.total ?? answer.data.length, clients: answer.data };
            }),
          )
        : [],
    5_000,
  );
  const move = async (client: ClientView, to: Stage) => {
    setError(undefined);
    setDone('');
    try {
      await moveClient(client, to.id);
      setDone(`${client.name} moved to ${to.name}.`);
    } catch (caught) {
      setError(caught);
    }
    await board.reload();
  };
  const allowedDrop = (stage: Stage) => Boolean(dragged && stages && movesFrom(stages, dragged.stage).some((m) => m.to.id === stage.id));
  return (
    <section>
      <h1>Pipeline</h1>
      <ProblemMessage error={error ?? board.error} />
      <p role="status" class="done">
        {done}
      </p>
      <div class="board">
        {board.data?.map((column) => (
          <section
            class={`column${allowedDrop(column.stage) ? ' droppable' : ''}`}
            aria-labelledby={`col-${column.stage.id}`}
            key={column.stage.id}
            onDragOver={(e) => allowedDrop(column.stage) && e.preventDefault()}
            onDrop={(e) => {
              e.preventDefault();
              if (dragged && allowedDrop(column.stage)) void move(dragged, column.stage);
              setDragged(undefined);
            }}
          >
            <h2 id={`col-${column.stage.id}`}>
              {column.stage.name} <span class="badge" aria-label={`${column.total} clients`}>{column.total}</span>
            </h2>
            <ul>
              {column.clients.map((client) => (
                <li class="card" key={client.id} draggable={writer} onDragStart={(e) => {
                    // Firefox starts no drag without data; the id also names what is moved
                    e.dataTransfer?.setData('text/plain', client.id);
                    if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
                    setDragged(client);
                  }} onDragEnd={() => setDragged(undefined)}>
                  <Link href={`clients/${encodeURIComponent(client.id)}`}>{client.name}</Link>
                  {(client.app.highlight || client.last_login.highlight || client.contracts.some((k) => k.autopayment.highlight)) && (
                    <span class="tag hot-tag">⚠ needs attention</span>
                  )}
                  {writer && stages && <CardMove client={client} stages={stages} onMove={(to) => void move(client, to)} />}
                </li>
              ))}
              {column.total > column.clients.length && <li class="more">and {column.total - column.clients.length} more</li>}
            </ul>
          </section>
        ))}
      </div>
    </section>
  );
}

function CardMove({ client, stages, onMove }: { client: ClientView; stages: Stage[]; onMove: (to: Stage) => void }) {
  const moves = movesFrom(stages, client.stage);
  return (
    <form
      class="card-move"
      onSubmit={(e) => {
        e.preventDefault();
        const id = String(new FormData(e.currentTarget as HTMLFormElement).get('to'));
        const target = stages.find((s) => s.id === id);
        if (target) onMove(target);
      }}
    >
      <label>
        <span class="sr-only">Move {client.name} to</span>
        <select name="to">
          <MoveOptions moves={moves} />
        </select>
      </label>
      <button type="submit" aria-label={`Move ${client.name}`}>
        Move
      </button>
    </form>
  );
}
