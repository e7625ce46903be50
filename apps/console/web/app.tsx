import { useEffect, useState } from 'preact/hooks';
import { call, type MirrorStatus, type Session } from './api.ts';
import { usePoll } from './hooks.ts';
import { KeysPage } from './pages/keys.tsx';
import { LagPage } from './pages/lag.tsx';
import { ParkedPage } from './pages/parked.tsx';
import { PersonalDataPage } from './pages/personal-data.tsx';
import { ReconcilePage } from './pages/reconcile.tsx';
import { RunsPage } from './pages/runs.tsx';
import { StoresPage } from './pages/stores.tsx';
import { SignIn } from './sign-in.tsx';

const pages = [
  { id: 'stores', title: 'Stores' },
  { id: 'lag', title: 'Lag' },
  { id: 'parked', title: 'Parked' },
  { id: 'reconcile', title: 'Reconcile' },
  { id: 'runs', title: 'Backfill & rebuild' },
  { id: 'personal-data', title: 'Personal data' },
  { id: 'keys', title: 'API keys' },
] as const;
type PageId = (typeof pages)[number]['id'];

/** The key is kept for this tab only (sessionStorage): closing it signs out. */
const storageKey = 'mirror-console-session';

function readSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(storageKey);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function currentPage(): PageId {
  const id = location.hash.replace(/^#\/?/, '').split('?')[0];
  return pages.some((p) => p.id === id) ? (id as PageId) : 'stores';
}

export function App() {
  const [session, setSession] = useState<Session | null>(readSession);
  const [page, setPage] = useState<PageId>(currentPage);
  useEffect(() => {
    const onHash = () => setPage(currentPage());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  if (!session) {
    return (
      <SignIn
        onSignedIn={(s) => {
          sessionStorage.setItem(storageKey, JSON.stringify(s));
          setSession(s);
        }}
      />
    );
  }
  const signOut = () => {
    sessionStorage.removeItem(storageKey);
    setSession(null);
  };
  return <Console session={session} page={page} onSignOut={signOut} />;
}

function Console({ session, page, onSignOut }: { session: Session; page: PageId; onSignOut: () => void }) {
  // Every page needs the list of stores; the stores page shows it, refreshed every 5 s.
  const status = usePoll(() => call<MirrorStatus>(session.token, '/v1/status'), 5000, [session.token]);
  const [chosen, setChosen] = useState<number | null>(session.storeId);
  const stores = status.data?.stores ?? [];
  const storeId = chosen ?? stores[0]?.storeId ?? null;
  const title = pages.find((p) => p.id === page)!.title;
  useEffect(() => {
    document.title = `${title} — Ecwid store mirror`;
  }, [title]);

  return (
    <div class="shell">
      <header class="topbar">
        <div class="brand">
          <strong>Ecwid store mirror</strong>
          <span class="who">{session.role === 'admin' ? 'admin' : `store ${session.storeId} key`}</span>
        </div>
        <div class="top-actions">
          {session.role === 'admin' && stores.length > 1 && (page === 'reconcile' || page === 'personal-data') && (
            <label class="store-picker">
              Store{' '}
              <select value={storeId ?? ''} onChange={(e) => setChosen(Number((e.target as HTMLSelectElement).value))}>
                {stores.map((s) => (
                  <option value={s.storeId} key={s.storeId}>
                    {s.storeId}
                    {s.storeName ? ` · ${s.storeName}` : ''}
                  </option>
                ))}
              </select>
            </label>
          )}
          <a href="/docs" class="link">
            API docs
          </a>
          <button type="button" class="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav class="tabs" aria-label="Pages">
        {pages.map((p) => (
          <a key={p.id} href={`#/${p.id}`} class={p.id === page ? 'tab active' : 'tab'} aria-current={p.id === page ? 'page' : undefined}>
            {p.title}
          </a>
        ))}
      </nav>
      <main>
        <h1>{title}</h1>
        {page === 'stores' && <StoresPage session={session} status={status} />}
        {page === 'lag' && <LagPage session={session} stores={stores} />}
        {page === 'parked' && <ParkedPage session={session} stores={stores} onChange={status.reload} />}
        {page === 'reconcile' && storeId !== null && <ReconcilePage session={session} storeId={storeId} />}
        {page === 'runs' && <RunsPage session={session} stores={stores} status={status.data} />}
        {page === 'personal-data' && storeId !== null && <PersonalDataPage session={session} storeId={storeId} />}
        {page === 'keys' && <KeysPage session={session} stores={stores} />}
        {storeId === null && (page === 'reconcile' || page === 'personal-data') && <p class="muted">No store yet.</p>}
      </main>
    </div>
  );
}
