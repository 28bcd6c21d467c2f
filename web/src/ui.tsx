import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import type { Move } from './model.js';
import { hrefOf, onLinkClick } from './router.js';

export function Link({ href, children, current }: { href: string; children: ComponentChildren; current?: boolean }) {
  return (
    <a href={hrefOf(href)} onClick={onLinkClick} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** A problem from the API, announced to screen readers. */
export function ProblemMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.message : String(error);
  return (
    <p class="problem" role="alert">
      <span aria-hidden="true">⚠ </span>
      {text}
    </p>
  );
}

/** A destructive action behind a second, explicit confirmation. */
export function ConfirmButton({ label, confirmLabel, onConfirm }: { label: string; confirmLabel: string; onConfirm: () => Promise<void> | void }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span role="group" aria-label="Confirm" class="confirm">
      <span>{confirmLabel}</span>
      <button type="button" class="danger" onClick={() => void Promise.resolve(onConfirm()).finally(() => setAsking(false))}>
        Yes, {label.toLowerCase()}
      </button>
      <button type="button" autofocus onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** A cell that needs attention: red, and a marker that says why, so colour is never the only sign. */
export function Flag({ on, children, why }: { on: boolean; children: ComponentChildren; why: string }) {
  if (!on) return <>{children}</>;
  return (
    <span class="flag">
      <span aria-hidden="true">⚠</span> {children} <span class="why">({why})</span>
    </span>
  );
}

export const dateTime = (value: string | null | undefined): string => (value ? new Date(value).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—');
export const day = (value: string | null | undefined): string => (value ? value.slice(0, 10) : '—');

/** The stages a client may move to, rollbacks marked: the options of a move's `to` select. */
export function MoveOptions({ moves }: { moves: Move[] }) {
  return (
    <>
      {moves.map((m) => (
        <option value={m.to.id}>
          {m.to.name}
          {m.rollback ? ' (rollback)' : ''}
        </option>
      ))}
    </>
  );
}
