import type { ComponentChildren } from 'preact';

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'muted'; children: ComponentChildren }) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

export function statusTone(status: string): 'ok' | 'warn' | 'bad' | 'muted' {
  switch (status) {
    case 'active':
    case 'done':
      return 'ok';
    case 'paused':
    case 'running':
    case 'received':
    case 'waiting_for_token':
    case 'awaiting_confirmation':
      return 'warn';
    case 'blocked':
    case 'failed':
      return 'bad';
    default:
      return 'muted';
  }
}

export function Problem({ error }: { error: string | undefined }) {
  return error ? (
    <p class="problem" role="alert">
      {error}
    </p>
  ) : null;
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}

export function Progress({ done, total, label }: { done: number; total: number | null; label: string }) {
  const share = total && total > 0 ? Math.min(1, done / total) : null;
  return (
    <div class="progress" aria-label={label}>
      <div class="progress-track">
        <div
          class={share === null ? 'progress-bar progress-unknown' : 'progress-bar'}
          style={{ width: `${Math.round((share ?? 1) * 100)}%` }}
        />
      </div>
      <span class="progress-text">
        {done.toLocaleString()}
        {total !== null ? ` / ${total.toLocaleString()}` : ''}
        {share !== null ? ` (${Math.floor(share * 100)}%)` : ''}
      </span>
    </div>
  );
}
