import { useState } from 'preact/hooks';
import { call, type Session } from './api.ts';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const me = await call<{ role: 'admin' | 'store'; storeId: number | null }>(token.trim(), '/v1/me');
      onSignedIn({ token: token.trim(), role: me.role, storeId: me.storeId });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form onSubmit={submit} class="card">
        <h1>Ecwid store mirror</h1>
        <p>
          Sign in with the admin token (<code>MIRROR_ADMIN_TOKEN</code>) to see every store, or with a store key (<code>mk_…</code>) to see
          that store. In demo mode, <code>pnpm start</code> prints a key for the demo store.
        </p>
        <label>
          Token or key
          <input
            type="password"
            name="token"
            autocomplete="current-password"
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        {error && (
          <p class="problem" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
