import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { refreshSession, signOut, whenSessionExpires } from './api.js';
import { useUser } from './hooks.js';
import { Link } from './ui.js';
import { here, hrefOf, navigate, useLocation } from './router.js';
import { BoardPage } from './pages/Board.js';
import { ClientPage } from './pages/Client.js';
import { ClientsPage } from './pages/Clients.js';
import { MetricsPage } from './pages/Metrics.js';
import { SignInPage } from './pages/SignIn.js';
import { UsersPage } from './pages/Users.js';
import './styles.css';

/** An expired session goes to sign-in, keeping the page it was on. */
function toSignIn(): void {
  const { path } = here();
  if (path === 'sign-in') return;
  const next = `${path}${location.search}`;
  navigate(`sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`, { replace: true });
}
whenSessionExpires(toSignIn);

function Page() {
  const { path, query } = useLocation();
  const user = useUser();
  useEffect(() => {
    const title = path.split('/')[0] || 'clients';
    document.title = `${title.charAt(0).toUpperCase()}${title.slice(1).replace('-', ' ')} · trackme`;
  }, [path]);
  if (path === 'sign-in' || !user) return <SignInPage next={query.get('next') ?? ''} />;
  const [section, id] = path.split('/');
  if (section === 'clients' && id) return <ClientPage id={decodeURIComponent(id)} />;
  if (section === 'board') return <BoardPage />;
  if (section === 'metrics') return <MetricsPage />;
  if (section === 'users' && user.role === 'super_user') return <UsersPage />;
  return <ClientsPage query={query} />;
}

function Shell() {
  const user = useUser();
  const { path, query } = useLocation();
  const attention = path === 'clients' && query.get('highlighted') === 'true';
  const current = (name: string) => path.split('/')[0] === name;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <span class="brand">trackme</span>
        {user && (
          <nav aria-label="Main">
            <Link href="clients" current={path === '' || (current('clients') && !attention)}>Clients</Link>
            <Link href="clients?highlighted=true" current={attention}>Needs attention</Link>
            <Link href="board" current={current('board')}>Board</Link>
            <Link href="metrics" current={current('metrics')}>Metrics</Link>
            {user.role === 'super_user' && <Link href="users" current={current('users')}>Users</Link>}
          </nav>
        )}
        {user && (
          <div class="who">
            <span>
              {user.name} <span class="role">({user.role.replace('_', ' ')})</span>
            </span>
            <button type="button" onClick={() => void signOut().then(() => navigate('sign-in'))}>Sign out</button>
          </div>
        )}
      </header>
      <main id="main">
        <Page />
      </main>
    </>
  );
}

/** Before the first page: a session kept in the cookie gives an access token without a sign-in. */
function App() {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    void refreshSession().then((ok) => {
      if (!ok && here().path !== 'sign-in') toSignIn();
      setReady(true);
    });
  }, []);
  return ready ? <Shell /> : <p class="loading">Loading…</p>;
}

if (location.pathname === hrefOf('').replace(/\/$/, '')) history.replaceState(null, '', hrefOf(''));
render(<App />, document.getElementById('app')!);
