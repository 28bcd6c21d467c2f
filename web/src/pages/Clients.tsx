import { useEffect, useState } from 'preact/hooks';
import { call, type Answer } from '../api.js';
import { useResource } from '../hooks.js';
import { loadStages, stageName, type ClientView, type Stage } from '../model.js';
import { navigate } from '../router.js';
import { day, Flag, Link, ProblemMessage } from '../ui.js';

/** Every list filter of the API, in the URL so a view can be shared. */
const FILTERS = ['stage', 'source', 'channel', 'app', 'is_active', 'updated', 'last_login', 'email', 'highlighted'] as const;
const PAGE = 50;
/** on a phone the filters start folded, so the clients come first */
const PHONE = matchMedia('(max-width: 600px)');
/** others' changes show within this much more than the API's own 1 s */
const POLL_MS = 2_000;

export function ClientsPage({ query }: { query: URLSearchParams }) {
  const [stages, setStages] = useState<Stage[]>();
  useEffect(() => void loadStages().then(setStages, () => undefined), []);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? '']));
  const offset = Number(query.get('offset') ?? 0) || 0;
  const key = query.toString();
  const list = useResource<Answer<ClientView[]>>(key, () => call<ClientView[]>('GET', 'clients', { query: { ...filters, limit: PAGE, offset } }), POLL_MS);
  const attention = filters['highlighted'] === 'true';
  const active = FILTERS.filter((f) => filters[f]).length;
  const [unfolded, setUnfolded] = useState(!PHONE.matches);
  useEffect(() => {
    const follow = () => setUnfolded(!PHONE.matches);
    PHONE.addEventListener('change', follow);
    return () => PHONE.removeEventListener('change', follow);
  }, []);

  const go = (params: Record<string, string>) => {
    const next = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));
    navigate(`clients${next.size ? `?${next}` : ''}`);
  };
  const apply = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    go(Object.fromEntries(FILTERS.map((f) => [f, String(form.get(f) ?? '')])));
  };
  const total = list.data?.meta?.total ?? 0;
  const rows = list.data?.data ?? [];
  return (
    <section>
      <h1>{attention ? 'Clients that need attention' : 'Clients'}</h1>
      <details class="filter-box" open={unfolded} onToggle={(e) => setUnfolded((e.currentTarget as HTMLDetailsElement).open)}>
        <summary>Filters{active > 0 ? ` (${active} set)` : ''}</summary>
        {/* fields are uncontrolled: the list re-renders on every poll, and a controlled value would
            undo what the user chose but has not applied yet; the key remakes them when the URL changes */}
        <form class="filters" onSubmit={apply} key={key} aria-label="Filters">
          <label>
            Stage
            <Choice name="stage" value={filters['stage']!} options={[['', 'Any'], ...(stages ?? []).map((s): [string, string] => [s.id, s.name])]} />
          </label>
          <label>
            Source
            <input name="source" defaultValue={filters['source']} />
          </label>
          <label>
            Channel
            <input name="channel" defaultValue={filters['channel']} />
          </label>
          <label>
            App
            <Choice name="app" value={filters['app']!} options={[['', 'Any'], ['installed', 'Installed'], ['not_installed', 'Not installed']]} />
          </label>
          <label>
            Active
            <Choice name="is_active" value={filters['is_active']!} options={[['', 'Active'], ['false', 'Inactive']]} />
          </label>
          <label>
            Updated since
            <input name="updated" type="date" defaultValue={filters['updated']} />
          </label>
          <label>
            Last login since
            <input name="last_login" type="date" defaultValue={filters['last_login']} />
          </label>
          <label>
            Email
            <input name="email" type="email" defaultValue={filters['email']} />
          </label>
          <label>
            Highlighted
            <Choice name="highlighted" value={filters['highlighted']!} options={[['', 'Any'], ['true', 'Needs attention'], ['false', 'Nothing to do']]} />
          </label>
          <div class="actions">
            <button type="submit">Apply filters</button>
            <button type="button" onClick={() => go({})}>
              Clear
            </button>
          </div>
        </form>
      </details>
      <ProblemMessage error={list.error} />
      <p class="count" role="status">
        {list.data ? (total === 0 ? 'No clients match.' : `Clients ${offset + 1}–${offset + rows.length} of ${total}`) : 'Loading…'}
      </p>
      <div class="scroll">
        <table class="clients">
          <caption class="sr-only">Clients; rows marked ⚠ need attention. The API lists them in its own order (no sorting is offered).</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Stage</th>
              <th scope="col">App</th>
              <th scope="col">Last login</th>
              <th scope="col">Autopayment</th>
              <th scope="col">Source</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id}>
                <th scope="row">
                  <Link href={`clients/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                </th>
                <td data-label="Email">{c.email}</td>
                <td data-label="Stage">{stageName(stages, c.stage)}</td>
                <td data-label="App" class={c.app.highlight ? 'hot' : undefined} data-cause={c.app.highlight ? 'app' : undefined}>
                  <Flag on={c.app.highlight} why="app missing">
                    {c.app.status === 'installed' ? 'Installed' : 'Not installed'}
                  </Flag>
                </td>
                <td data-label="Last login" class={c.last_login.highlight ? 'hot' : undefined} data-cause={c.last_login.highlight ? 'login' : undefined}>
                  <Flag on={c.last_login.highlight} why={c.last_login.at ? 'no recent login' : 'never logged in'}>
                    {day(c.last_login.at)}
                  </Flag>
                </td>
                <td data-label="Autopayment" class={c.contracts.some((k) => k.autopayment.highlight) ? 'hot' : undefined} data-cause={c.contracts.some((k) => k.autopayment.highlight) ? 'autopayment' : undefined}>
                  {c.contracts.length === 0
                    ? '—'
                    : c.contracts.map((k) => (
                        <div key={k.id}>
                          <Flag on={Boolean(k.autopayment.highlight)} why="autopayment off">
                            {k.number ?? k.id}: {k.autopayment.status === 'enabled' ? 'on' : 'off'}
                          </Flag>
                        </div>
                      ))}
                </td>
                <td data-label="Source">{c.source ?? '—'}</td>
                <td data-label="Updated">{day(c.last_updated)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={offset === 0} onClick={() => go({ ...filters, offset: String(Math.max(0, offset - PAGE)) })}>
          Previous page
        </button>
        <button type="button" disabled={offset + PAGE >= total} onClick={() => go({ ...filters, offset: String(offset + PAGE) })}>
          Next page
        </button>
      </nav>
    </section>
  );
}

/** A filter's select, uncontrolled (see the form): the URL's value is selected when it is made. */
function Choice({ name, value, options }: { name: string; value: string; options: Array<[string, string]> }) {
  return (
    <select name={name}>
      {options.map(([id, label]) => (
        <option key={id} value={id} selected={id === value}>
          {label}
        </option>
      ))}
    </select>
  );
}
