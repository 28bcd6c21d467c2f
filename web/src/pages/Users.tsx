import { useState } from 'preact/hooks';
import { ApiError, call, type Role, type User } from '../api.js';
import { useResource } from '../hooks.js';
import { ConfirmButton, dateTime, ProblemMessage } from '../ui.js';

const ROLES: Role[] = ['manager', 'admin', 'super_user'];

/** For super users: the users, a new one, a role changed, one deleted. */
export function UsersPage() {
  const users = useResource('users', async () => (await call<(User & { created_at: string })[]>('GET', 'users', { query: { limit: 500 } })).data);
  const [error, setError] = useState<unknown>();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [done, setDone] = useState('');
  const act = async (what: () => Promise<unknown>, message: string) => {
    setError(undefined);
    try {
      await what();
      await users.reload();
      setDone(message);
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    }
  };
  const create = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const body = Object.fromEntries(['name', 'email', 'password', 'role'].map((f) => [f, String(form.get(f) ?? '')]));
    try {
      await call('POST', 'users', { body });
      setFields({});
      formElement.reset();
      await users.reload();
      setDone(`${body['email']} created.`);
    } catch (caught) {
      setFields(caught instanceof ApiError ? caught.fields() : {});
      setError(caught);
    }
  };
  return (
    <section>
      <h1>Users</h1>
      <p role="status" class="done">
        {done}
      </p>
      <ProblemMessage error={error ?? users.error} />
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.data?.map((u) => (
              <tr key={u.id}>
                <th scope="row">{u.name}</th>
                <td>{u.email}</td>
                <td>
                  <label>
                    <span class="sr-only">Role of {u.name}</span>
                    <select value={u.role} onChange={(e) => void act(() => call('PUT', `users/${u.id}`, { body: { role: (e.currentTarget as HTMLSelectElement).value } }), `${u.name} is now ${(e.currentTarget as HTMLSelectElement).value.replace('_', ' ')}.`)}>
                      {ROLES.map((r) => (
                        <option value={r}>{r.replace('_', ' ')}</option>
                      ))}
                    </select>
                  </label>
                </td>
                <td>{dateTime(u.created_at)}</td>
                <td>
                  <ConfirmButton label="Delete" confirmLabel={`Delete ${u.name}?`} onConfirm={() => void act(() => call('DELETE', `users/${u.id}`), `${u.name} deleted.`)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>New user</h2>
      <form class="edit" noValidate onSubmit={(e) => void create(e)}>
        {(['name', 'email', 'password'] as const).map((f) => (
          <label key={f}>
            {f.charAt(0).toUpperCase() + f.slice(1)}
            {f === 'password' ? (
              <input name={f} type="password" autocomplete="new-password" aria-invalid={fields[f] ? 'true' : undefined} />
            ) : (
              <input name={f} type="text" autocomplete="off" aria-invalid={fields[f] ? 'true' : undefined} />
            )}
            {fields[f] && <span class="field-error">{fields[f]}</span>}
          </label>
        ))}
        <label>
          Role
          <select name="role">
            {ROLES.map((r) => (
              <option value={r}>{r.replace('_', ' ')}</option>
            ))}
          </select>
        </label>
        <button type="submit">Create user</button>
      </form>
    </section>
  );
}
