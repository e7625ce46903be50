import { useState } from 'preact/hooks';
import { call, type ApiKey, type Session, type StoreHealth } from '../api.ts';
import { ago, when } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { Badge, Loading, Problem } from '../ui.tsx';

export function KeysPage({ session, stores }: { session: Session; stores: StoreHealth[] }) {
  if (session.role !== 'admin') return <p class="muted">Keys are managed with the admin token.</p>;
  return <Keys session={session} stores={stores} />;
}

function Keys({ session, stores }: { session: Session; stores: StoreHealth[] }) {
  const keys = usePoll(() => call<{ data: ApiKey[] }>(session.token, '/v1/api-keys'), 0, [session.token]);
  const [storeId, setStoreId] = useState<string>('');
  const [label, setLabel] = useState('');
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  const chosenStore = storeId || String(stores[0]?.storeId ?? '');

  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const key = await call<ApiKey & { key: string }>(session.token, '/v1/api-keys', {
        method: 'POST',
        body: { storeId: Number(chosenStore), ...(label.trim() && { label: label.trim() }) },
      });
      setCreated(key);
      setLabel('');
      keys.reload();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const revoke = async (id: number) => {
    setError(undefined);
    try {
      await call<ApiKey>(session.token, `/v1/api-keys/${id}`, { method: 'DELETE' });
      if (created?.id === id) setCreated(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
    setConfirming(null);
    keys.reload();
  };

  return (
    <>
      <section class="card">
        <header class="card-head">
          <h2>Create a store key</h2>
        </header>
        <form class="inline-form" onSubmit={create}>
          <label>
            Store
            <select name="storeId" value={chosenStore} onChange={(e) => setStoreId((e.target as HTMLSelectElement).value)}>
              {stores.map((s) => (
                <option value={s.storeId} key={s.storeId}>
                  {s.storeId}
                  {s.storeName ? ` · ${s.storeName}` : ''}
                </option>
              ))}
            </select>
          </label>
          <label>
            Label
            <input name="label" value={label} placeholder="who uses it" onInput={(e) => setLabel((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" disabled={!chosenStore}>
            Create key
          </button>
        </form>
        {created && (
          <div class="new-key" role="status">
            <p>
              <b>Key for store {created.storeId}, shown this once.</b> Copy it now: only its first characters are kept.
            </p>
            <code class="key-value">{created.key}</code>
            <button type="button" class="secondary" onClick={() => void navigator.clipboard?.writeText(created.key)}>
              Copy
            </button>
          </div>
        )}
        <Problem error={error} />
      </section>
      <section class="card">
        <header class="card-head">
          <h2>Keys</h2>
        </header>
        <Problem error={keys.error} />
        {!keys.data ? (
          <Loading />
        ) : keys.data.data.length === 0 ? (
          <p class="muted">No key yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="keys">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Key</th>
                  <th>Store</th>
                  <th>Label</th>
                  <th>Created</th>
                  <th>State</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {keys.data.data.map((k) => (
                  <tr key={k.id} data-key-id={k.id} class={k.revokedAt ? 'revoked' : ''}>
                    <td>{k.id}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{k.storeId}</td>
                    <td>{k.label ?? ''}</td>
                    <td title={when(k.createdAt)}>{ago(k.createdAt)}</td>
                    <td>{k.revokedAt ? <Badge tone="muted">revoked {ago(k.revokedAt)}</Badge> : <Badge tone="ok">live</Badge>}</td>
                    <td>
                      {!k.revokedAt &&
                        (confirming === k.id ? (
                          <span class="confirm">
                            <button type="button" class="danger small-button" onClick={() => void revoke(k.id)}>
                              Confirm revoke
                            </button>
                            <button type="button" class="secondary small-button" onClick={() => setConfirming(null)}>
                              Cancel
                            </button>
                          </span>
                        ) : (
                          <button type="button" class="secondary small-button" onClick={() => setConfirming(k.id)}>
                            Revoke
                          </button>
                        ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
