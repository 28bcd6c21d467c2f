import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, mayWrite } from '../api.js';
import { useResource, useUser } from '../hooks.js';
import { loadStages, moveClient, movesFrom, stageName, type ClientView, type Stage } from '../model.js';
import { navigate } from '../router.js';
import { ConfirmButton, dateTime, day, Flag, MoveOptions, ProblemMessage } from '../ui.js';
import { Timeline } from './Timeline.js';

export function ClientPage({ id }: { id: string }) {
  const user = useUser();
  const writer = mayWrite(user);
  const [stages, setStages] = useState<Stage[]>();
  useEffect(() => void loadStages().then(setStages, () => undefined), []);
  const client = useResource(`client:${id}`, async () => (await call<ClientView>('GET', `clients/${encodeURIComponent(id)}`)).data, 5_000);
  const [stamp, setStamp] = useState(0);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState('');
  const c = client.data;
  const changed = async (message: string) => {
    setError(undefined);
    setDone(message);
    await client.reload();
    setStamp((n) => n + 1);
  };
  if (!c) return client.error ? <ProblemMessage error={client.error} /> : <p>Loading…</p>;
  return (
    <section>
      <h1>{c.name}</h1>
      <p role="status" class="done">
        {done}
      </p>
      <ProblemMessage error={error} />
      <dl class="fields">
        <dt>Email</dt>
        <dd>{c.email}</dd>
        <dt>Stage</dt>
        <dd>{stageName(stages, c.stage)}</dd>
        <dt>Active</dt>
        <dd>{c.is_active ? 'Yes' : 'No'}</dd>
        <dt>Source</dt>
        <dd>{c.source ?? '—'}</dd>
        <dt>Channel</dt>
        <dd>{c.channel ?? '—'}</dd>
        <dt>App</dt>
        <dd class={c.app.highlight ? 'hot' : undefined}>
          <Flag on={c.app.highlight} why="app missing">
            {c.app.status === 'installed' ? 'Installed' : 'Not installed'}
          </Flag>
        </dd>
        <dt>Last login</dt>
        <dd class={c.last_login.highlight ? 'hot' : undefined}>
          <Flag on={c.last_login.highlight} why={c.last_login.at ? 'no recent login' : 'never logged in'}>
            {dateTime(c.last_login.at)}
          </Flag>
        </dd>
        <dt>Registered</dt>
        <dd>{dateTime(c.registration_date)}</dd>
        <dt>Updated</dt>
        <dd>{dateTime(c.last_updated)}</dd>
        <dt>Id</dt>
        <dd>
          <code>{c.id}</code> (version {c.version})
        </dd>
      </dl>
      <h2>Contracts</h2>
      {c.contracts.length === 0 ? (
        <p>No contracts.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
                <th scope="col">Number</th>
                <th scope="col">Status</th>
                <th scope="col">Concluded</th>
                <th scope="col">Expires</th>
                <th scope="col">Amount</th>
                <th scope="col">Frequency</th>
                <th scope="col">Autopayment</th>
              </tr>
            </thead>
            <tbody>
              {c.contracts.map((k) => (
                <tr key={k.id}>
                  <td>{k.id}</td>
                  <td>{k.name ?? '—'}</td>
                  <td>{k.number ?? '—'}</td>
                  <td>{k.status ?? '—'}</td>
                  <td>{day(k.conclusion_date)}</td>
                  <td>{day(k.expiration_date)}</td>
                  <td>{k.amount ?? '—'}</td>
                  <td>{k.payment_frequency ?? '—'}</td>
                  <td class={k.autopayment.highlight ? 'hot' : undefined}>
                    <Flag on={k.autopayment.highlight} why="autopayment off">
                      {k.autopayment.status === 'enabled' ? 'Enabled' : 'Disabled'}
                    </Flag>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {writer && stages && (
        <>
          <h2>Move</h2>
          <StageMove client={c} stages={stages} onMoved={(to) => void changed(`Moved to ${stageName(stages, to)}.`)} onError={setError} />
          <h2>Edit</h2>
          <EditForm client={c} onSaved={() => void changed('Saved.')} />
          <h2>Delete</h2>
          <ConfirmButton
            label="Delete client"
            confirmLabel={`Delete ${c.name} for good?`}
            onConfirm={async () => {
              try {
                await call('DELETE', `clients/${encodeURIComponent(c.id)}`);
                navigate('clients');
              } catch (caught) {
                setError(caught);
              }
            }}
          />
        </>
      )}
      <h2>History</h2>
      <Timeline id={c.id} stages={stages} stamp={stamp} />
    </section>
  );
}

function StageMove({ client, stages, onMoved, onError }: { client: ClientView; stages: Stage[]; onMoved: (to: string) => void; onError: (e: unknown) => void }) {
  const moves = movesFrom(stages, client.stage);
  const submit = async (event: Event) => {
    event.preventDefault();
    const to = String(new FormData(event.currentTarget as HTMLFormElement).get('to'));
    try {
      await moveClient(client, to);
      onMoved(to);
    } catch (caught) {
      onError(caught);
    }
  };
  return (
    <form class="inline" onSubmit={(e) => void submit(e)}>
      <label>
        Move to
        <select name="to">
          <MoveOptions moves={moves} />
        </select>
      </label>
      <button type="submit">Move</button>
    </form>
  );
}

const EDITABLE = ['name', 'email', 'source', 'channel'] as const;

function EditForm({ client, onSaved }: { client: ClientView; onSaved: () => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const body: Record<string, unknown> = {};
    for (const field of EDITABLE) {
      const value = String(form.get(field) ?? '').trim();
      const was = client[field] ?? '';
      if (value !== was) body[field] = value === '' && (field === 'source' || field === 'channel') ? null : value;
    }
    const app = String(form.get('app'));
    if (app !== client.app.status) body['app'] = app;
    const active = form.get('is_active') === 'on';
    if (active !== client.is_active) body['is_active'] = active;
    if (Object.keys(body).length === 0) return;
    try {
      await call('PATCH', `clients/${encodeURIComponent(client.id)}`, { body });
      setErrors({});
      setError(undefined);
      onSaved();
    } catch (caught) {
      setErrors(caught instanceof ApiError ? caught.fields() : {});
      setError(caught);
    }
  };
  const field = (name: (typeof EDITABLE)[number], label: string) => (
    <label>
      {label}
      <input name={name} defaultValue={client[name] ?? ''} aria-invalid={errors[name] ? 'true' : undefined} aria-describedby={errors[name] ? `err-${name}` : undefined} />
      {errors[name] && (
        <span class="field-error" id={`err-${name}`}>
          {errors[name]}
        </span>
      )}
    </label>
  );
  return (
    // uncontrolled fields: the page polls, and a re-render must not undo what the user typed (or
    // kept after a refused save); the key remakes them when the client changes
    <form class="edit" noValidate onSubmit={(e) => void submit(e)} key={client.version}>
      {field('name', 'Name')}
      {field('email', 'Email')}
      {field('source', 'Source')}
      {field('channel', 'Channel')}
      <label>
        App
        <select name="app">
          <option value="installed" selected={client.app.status === 'installed'}>
            Installed
          </option>
          <option value="not_installed" selected={client.app.status === 'not_installed'}>
            Not installed
          </option>
        </select>
      </label>
      <label class="check">
        <input type="checkbox" name="is_active" defaultChecked={client.is_active} /> Active
      </label>
      <ProblemMessage error={error} />
      <button type="submit">Save</button>
    </form>
  );
}
