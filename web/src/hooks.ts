import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, currentUser, onSessionChange, type User } from './api.js';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Data for a page: fetched when `key` changes, revalidated every `pollMs` while the page is
 * visible and when it regains focus, so others' changes show without a reload.
 */
export function useResource<T>(key: string, fetcher: () => Promise<T>, pollMs = 0): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const latest = useRef(fetcher);
  latest.current = fetcher;
  const current = useRef(key);
  current.current = key;
  const reload = useCallback(async () => {
    const asked = current.current;
    try {
      const data = await latest.current();
      if (asked === current.current) setState({ data, error: undefined, loading: false });
    } catch (error) {
      if (asked !== current.current) return;
      if (error instanceof ApiError) setState((s) => ({ ...s, error, loading: false }));
      else setState((s) => ({ ...s, error: new ApiError({ status: 0, title: 'the API cannot be reached' }), loading: false }));
    }
  }, []);
  useEffect(() => {
    setState((s) => ({ ...s, loading: true }));
    void reload();
    const onFocus = () => document.visibilityState === 'visible' && void reload();
    document.addEventListener('visibilitychange', onFocus);
    const timer = pollMs > 0 ? setInterval(() => document.visibilityState === 'visible' && void reload(), pollMs) : undefined;
    return () => {
      document.removeEventListener('visibilitychange', onFocus);
      if (timer) clearInterval(timer);
    };
  }, [key, pollMs, reload]);
  return { ...state, reload };
}

export function useUser(): User | undefined {
  const [user, setUser] = useState(currentUser);
  useEffect(() => onSessionChange(() => setUser(currentUser())), []);
  return user;
}
