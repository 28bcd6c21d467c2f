import { useState } from 'preact/hooks';
import { signIn } from '../api.js';
import { navigate } from '../router.js';
import { ProblemMessage } from '../ui.js';

export function SignInPage({ next }: { next: string }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    try {
      await signIn(String(form.get('email')), String(form.get('password')));
      navigate(next && !next.startsWith('sign-in') ? next : 'clients', { replace: true });
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <ProblemMessage error={error} />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </section>
  );
}
