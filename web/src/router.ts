import { useEffect, useState } from 'preact/hooks';
import { consoleBase } from './api.js';

/** The console's own routes, below {BASE_PATH}/console/, in the History API. */
const listeners = new Set<() => void>();
const notify = () => {
  for (const listener of listeners) listener();
};
window.addEventListener('popstate', notify);

/** The path below the console, without a leading slash, and the query. */
export function here(): { path: string; query: URLSearchParams } {
  const path = location.pathname.startsWith(consoleBase) ? location.pathname.slice(consoleBase.length) : '';
  return { path: path.replace(/\/$/, ''), query: new URLSearchParams(location.search) };
}

export function hrefOf(to: string): string {
  return `${consoleBase}${to}`;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = hrefOf(to);
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  notify();
}

/** Re-renders on every navigation. */
export function useLocation(): ReturnType<typeof here> {
  const [location, setLocation] = useState(here);
  useEffect(() => {
    const update = () => setLocation(here());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return location;
}

/** A link inside the console that navigates without reloading the page. */
export function onLinkClick(event: MouseEvent): void {
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? undefined;
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  history.pushState(null, '', anchor.href);
  notify();
}
