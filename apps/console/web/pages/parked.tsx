import { useState } from 'preact/hooks';
import { call, type Parked, type Session, type StoreHealth } from '../api.ts';
import { ago, when } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { Loading, Problem } from '../ui.tsx';

type RetryResult = { results: { id: number; outcome: string; error?: string }[] };

export function ParkedPage({ session, stores, onChange }: { session: Session; stores: StoreHealth[]; onChange: () => void }) {
  if (stores.length === 0) return <Loading />;
  return (
    <>
      <p class="muted">
        Webhooks whose entity could not be fetched after several tries. A retry fetches it from Ecwid again; on success it leaves this list.
      </p>
      {stores.map((s) => (
        <StoreParked session={session} storeId={s.storeId} key={s.storeId} onChange={onChange} />
      ))}
    </>
  );
}

function StoreParked({ session, storeId, onChange }: { session: Session; storeId: number; onChange: () => void }) {
  const list = usePoll(() => call<{ data: Parked[] }>(session.token, `/v1/stores/${storeId}/parked`), 10_000, [session.token, storeId]);
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const admin = session.role === 'admin';
  const retry = async (id: number | 'all') => {
    setBusy(String(id));
    setError(undefined);
    setMessage(undefined);
    try {
      const path = id === 'all' ? `/v1/stores/${storeId}/parked/retry` : `/v1/stores/${storeId}/parked/${id}/retry`;
      const { results } = await call<RetryResult>(session.token, path, { method: 'POST' });
      const failed = results.filter((r) => r.outcome === 'failed');
      setMessage(
        `${results.length - failed.length} resolved, ${failed.length} still failing${failed[0]?.error ? ` (${failed[0].error})` : ''}`,
      );
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
      list.reload();
      onChange();
    }
  };
  const rows = list.data?.data ?? [];
  return (
    <section class="card" data-store-id={storeId} aria-label={`Parked webhooks of store ${storeId}`}>
      <header class="card-head">
        <h2>
          Store <span class="store-id">{storeId}</span>: <span class="parked-count">{rows.length}</span> parked
        </h2>
        {admin && rows.length > 0 && (
          <button type="button" onClick={() => void retry('all')} disabled={busy !== null}>
            {busy === 'all' ? 'Retrying…' : 'Retry all'}
          </button>
        )}
      </header>
      <Problem error={list.error ?? error} />
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      {!list.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p class="muted">Nothing parked.</p>
      ) : (
        <div class="table-wrap">
          <table class="parked">
            <thead>
              <tr>
                <th>#</th>
                <th>Webhook</th>
                <th>Entity</th>
                <th>Error</th>
                <th>Tries</th>
                <th>Parked</th>
                {admin && <th />}
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id} data-parked-id={p.id}>
                  <td>{p.id}</td>
                  <td>
                    <code>{p.eventType ?? '?'}</code>
                    <div class="muted small">position {p.position}</div>
                  </td>
                  <td>
                    {p.entity ?? '?'} {p.entityId ?? ''}
                  </td>
                  <td class="error-text">{p.error}</td>
                  <td>{p.attempts}</td>
                  <td title={when(p.parkedAt)}>{ago(p.parkedAt)}</td>
                  {admin && (
                    <td>
                      <button type="button" class="small-button" onClick={() => void retry(p.id)} disabled={busy !== null}>
                        {busy === String(p.id) ? 'Retrying…' : 'Retry'}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!admin && rows.length > 0 && <p class="muted small">Retrying needs the admin token.</p>}
    </section>
  );
}
