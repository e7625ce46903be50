import { useState } from 'preact/hooks';
import { call, type ReconcileRun, type Session, type Verify } from '../api.ts';
import { ago, when } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { Badge, Loading, Problem, statusTone } from '../ui.tsx';

export function ReconcilePage({ session, storeId }: { session: Session; storeId: number }) {
  const runs = usePoll(() => call<{ data: ReconcileRun[] }>(session.token, `/v1/stores/${storeId}/reconcile-runs?limit=50`), 15_000, [
    session.token,
    storeId,
  ]);
  return (
    <>
      <VerifyPanel session={session} storeId={storeId} />
      <section class="card">
        <header class="card-head">
          <h2>
            Reconcile runs of store <span class="store-id">{storeId}</span>
          </h2>
        </header>
        <p class="muted small">
          Each run compared one kind with Ecwid and repaired what differed by appending to the log. Missing: in Ecwid, not here. Stale:
          Ecwid's is newer. Missed deletes: gone from Ecwid, live here. Healed: deleted here, live in Ecwid.
        </p>
        <Problem error={runs.error} />
        {!runs.data ? (
          <Loading />
        ) : runs.data.data.length === 0 ? (
          <p class="muted">No reconcile run yet: the schedule runs one every hour (RECONCILE_INTERVAL).</p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Kind</th>
                  <th>Mode</th>
                  <th>Status</th>
                  <th>Checked</th>
                  <th class="num">Missing</th>
                  <th class="num">Stale</th>
                  <th class="num">Missed deletes</th>
                  <th class="num">Healed</th>
                  <th class="num">Appended</th>
                  <th>Started</th>
                </tr>
              </thead>
              <tbody>
                {runs.data.data.map((r) => {
                  const found = r.missing + r.stale + r.missedDeletes + r.healedTombstones;
                  return (
                    <tr key={r.id} class={found > 0 ? 'found' : ''}>
                      <td>{r.entity}</td>
                      <td>
                        {r.mode} <span class="muted small">({r.trigger})</span>
                      </td>
                      <td>
                        <Badge tone={statusTone(r.status)}>{r.status}</Badge>
                        {r.error && <div class="error-text small">{r.error}</div>}
                      </td>
                      <td>{r.checked.toLocaleString()}</td>
                      <td class="num">{r.missing}</td>
                      <td class="num">{r.stale}</td>
                      <td class="num">{r.missedDeletes}</td>
                      <td class="num">{r.healedTombstones}</td>
                      <td class="num">{r.appended}</td>
                      <td title={when(r.startedAt)}>{ago(r.startedAt)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function VerifyPanel({ session, storeId }: { session: Session; storeId: number }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const latest = usePoll(
    async () => {
      const verify = await call<Verify>(session.token, `/v1/stores/${storeId}/verify`);
      const { startedAt } = verify;
      return verify.status === 'none' || startedAt === null ? null : { ...verify, startedAt };
    },
    // Followed closely while one runs; otherwise now and then, for one started elsewhere.
    (latest) => (latest === undefined || latest?.status === 'running' ? 3000 : 30_000),
    [session.token, storeId],
  );
  const start = async () => {
    setError(undefined);
    try {
      await call<Verify>(session.token, `/v1/stores/${storeId}/verify`, { method: 'POST' });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
    latest.reload();
  };
  const v = latest.data;
  const differing = v?.kinds.filter((k) => k.missing + k.stale + k.missedDeletes + k.healedTombstones > 0) ?? [];
  // A kind that failed (Ecwid unreachable, a read refused) or was skipped was not compared: the
  // store cannot be called identical.
  const uncompared = v?.kinds.filter((k) => k.status !== 'done') ?? [];
  const verdict = differing.length > 0 ? 'differs' : uncompared.length > 0 ? 'incomplete' : 'identical';
  return (
    <section class="card verify">
      <header class="card-head">
        <h2>Verify against Ecwid</h2>
        {session.role === 'admin' && (
          <button type="button" onClick={() => void start()} disabled={v?.status === 'running'}>
            {v?.status === 'running' ? 'Verifying…' : 'Verify now'}
          </button>
        )}
      </header>
      <p class="muted small">Compares every kind with Ecwid and changes nothing (as `pnpm mirror verify`).</p>
      <Problem error={error ?? latest.error} />
      {v && (
        <div class="verify-result" data-status={v.status}>
          <p>
            <Badge
              tone={v.status === 'done' ? (verdict === 'identical' ? 'ok' : verdict === 'differs' ? 'warn' : 'bad') : statusTone(v.status)}
            >
              {v.status === 'done' ? verdict : v.status}
            </Badge>{' '}
            started {ago(v.startedAt)}
            {v.finishedAt && <>, took {Math.round((new Date(v.finishedAt).getTime() - new Date(v.startedAt).getTime()) / 1000)} s</>}
            {v.error && <span class="error-text"> {v.error}</span>}
            {v.status === 'done' && uncompared.length > 0 && (
              <span class="error-text"> not compared: {uncompared.map((k) => k.entity).join(', ')}</span>
            )}
          </p>
          {v.kinds.length > 0 && (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Kind</th>
                    <th>Checked</th>
                    <th class="num">Missing</th>
                    <th class="num">Stale</th>
                    <th class="num">Missed deletes</th>
                    <th class="num">Healed</th>
                    <th>Ids</th>
                  </tr>
                </thead>
                <tbody>
                  {v.kinds.map((k) => {
                    const ids = [
                      ...k.samples.missing.map((id) => `+${id}`),
                      ...k.samples.stale.map((id) => `~${id}`),
                      ...k.samples.missedDeletes.map((id) => `−${id}`),
                      ...k.samples.healedTombstones.map((id) => `↺${id}`),
                    ];
                    return (
                      <tr key={k.entity}>
                        <td>
                          {k.entity}
                          {k.status !== 'done' && <span class="muted small"> ({k.reason ?? k.status})</span>}
                        </td>
                        <td>{k.checked.toLocaleString()}</td>
                        <td class="num">{k.missing}</td>
                        <td class="num">{k.stale}</td>
                        <td class="num">{k.missedDeletes}</td>
                        <td class="num">{k.healedTombstones}</td>
                        <td class="ids">{ids.slice(0, 8).join(' ')}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
