import { useState } from 'preact/hooks';
import { call, type PersonalDataRequest, type Session } from '../api.ts';
import { ago, when } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { Badge, Loading, Problem, statusTone } from '../ui.tsx';

export function PersonalDataPage({ session, storeId }: { session: Session; storeId: number }) {
  if (session.role !== 'admin') {
    return <p class="muted">Personal-data requests are about a store's customers: only the admin token may see them.</p>;
  }
  return <Requests session={session} storeId={storeId} />;
}

function Requests({ session, storeId }: { session: Session; storeId: number }) {
  const list = usePoll(
    () => call<{ data: PersonalDataRequest[] }>(session.token, `/v1/stores/${storeId}/personal-data-requests?limit=100`),
    10_000,
    [session.token, storeId],
  );
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  // An erasure a webhook asked for waits for an operator: Ecwid does not sign a webhook's body.
  const answer = async (r: PersonalDataRequest, verb: 'confirm' | 'cancel') => {
    const what = r.scope === 'store' ? 'every customer of this store' : 'this customer';
    if (verb === 'confirm' && !window.confirm(`Erase ${what} from the mirror for good? This cannot be undone.`)) return;
    setBusy(r.id);
    setError(undefined);
    try {
      await call(session.token, `/v1/stores/${storeId}/personal-data-requests/${r.id}/${verb}`, { method: 'POST' });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(null);
      list.reload();
    }
  };
  return (
    <section class="card">
      <header class="card-head">
        <h2>
          Requests for store <span class="store-id">{storeId}</span>
        </h2>
      </header>
      <p class="muted small">
        Erasures and exports of a customer's data, from Ecwid's webhooks, <code>pnpm mirror personal-data</code> or the API. An erased
        subject is kept only as keyed hashes, so erased requests show no customer. An erasure Ecwid asks for by webhook waits for you to
        confirm it: a webhook's body is not signed, and an erasure cannot be undone.
      </p>
      <Problem error={list.error ?? error} />
      {!list.data ? (
        <Loading />
      ) : list.data.data.length === 0 ? (
        <p class="muted">No personal-data request.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Kind</th>
                <th>Subject</th>
                <th>From</th>
                <th>Status</th>
                <th>Touched</th>
                <th>Asked</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((r) => (
                <tr key={r.id}>
                  <td>{r.id}</td>
                  <td>
                    {r.kind} <span class="muted small">({r.scope})</span>
                  </td>
                  <td>
                    {r.scope === 'store' ? 'every customer' : (r.email ?? (r.customerId !== null ? `customer ${r.customerId}` : 'erased'))}
                  </td>
                  <td>{r.source}</td>
                  <td>
                    <Badge tone={statusTone(r.status)}>{r.status.replaceAll('_', ' ')}</Badge>
                    {r.reason && <div class="error-text small">{r.reason}</div>}
                    {r.status === 'awaiting_confirmation' && (
                      <div class="actions">
                        <button type="button" class="small-button" onClick={() => void answer(r, 'confirm')} disabled={busy !== null}>
                          {busy === r.id ? 'Working…' : 'Confirm erasure'}
                        </button>{' '}
                        <button type="button" class="small-button" onClick={() => void answer(r, 'cancel')} disabled={busy !== null}>
                          Cancel
                        </button>
                      </div>
                    )}
                  </td>
                  <td class="small">
                    {r.counts
                      ? Object.entries(r.counts)
                          .filter(([, n]) => n > 0)
                          .map(([k, n]) => `${k} ${n}`)
                          .join(', ') || 'nothing'
                      : '—'}
                  </td>
                  <td title={when(r.createdAt)}>{ago(r.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
