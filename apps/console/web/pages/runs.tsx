import { call, type Backfill, type MirrorStatus, type Session, type StoreHealth } from '../api.ts';
import { ago, when } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { Badge, Loading, Problem, Progress, statusTone } from '../ui.tsx';

export function RunsPage({ session, stores, status }: { session: Session; stores: StoreHealth[]; status: MirrorStatus | undefined }) {
  const rebuild = status?.rebuild ?? null;
  return (
    <>
      {session.role === 'admin' && (
        <section class="card">
          <header class="card-head">
            <h2>Rebuild</h2>
            {rebuild && <Badge tone={rebuild.active ? 'warn' : 'bad'}>{rebuild.active ? 'running' : 'stalled'}</Badge>}
          </header>
          {rebuild ? (
            <>
              <Progress done={rebuild.position} total={rebuild.head} label="rebuild progress" />
              <p class="muted small">Log position reached by the shadow tables; last progress {ago(rebuild.updatedAt)}.</p>
            </>
          ) : (
            <p class="muted">
              No rebuild in progress. <code>pnpm mirror rebuild</code> rebuilds the tables from the log into shadow tables and swaps them
              in.
            </p>
          )}
        </section>
      )}
      {stores.map((s) => (
        <StoreBackfill session={session} storeId={s.storeId} key={s.storeId} />
      ))}
    </>
  );
}

function StoreBackfill({ session, storeId }: { session: Session; storeId: number }) {
  const backfill = usePoll(() => call<{ data: Backfill[] }>(session.token, `/v1/stores/${storeId}/backfill`), 5000, [
    session.token,
    storeId,
  ]);
  const rows = backfill.data?.data ?? [];
  const running = rows.filter((r) => r.phase !== 'done').length;
  return (
    <section class="card" data-store-id={storeId}>
      <header class="card-head">
        <h2>
          Backfill of store <span class="store-id">{storeId}</span>
        </h2>
        {rows.length > 0 && <Badge tone={running > 0 ? 'warn' : 'ok'}>{running > 0 ? `${running} running` : 'done'}</Badge>}
      </header>
      <Problem error={backfill.error} />
      {!backfill.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p class="muted">
          Never backfilled. <code>pnpm mirror backfill --store {storeId}</code> copies its history.
        </p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Kind</th>
                <th>Phase</th>
                <th>Items read</th>
                <th>Started</th>
                <th>Finished</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.entity}>
                  <td>{r.entity}</td>
                  <td>
                    <Badge tone={statusTone(r.phase)}>{r.phase}</Badge>
                  </td>
                  <td class="wide">
                    <Progress done={r.offset} total={r.phase === 'done' ? (r.total ?? r.offset) : r.total} label={`${r.entity} backfill`} />
                  </td>
                  <td title={when(r.startedAt)}>{ago(r.startedAt)}</td>
                  <td title={when(r.completedAt)}>{r.completedAt ? ago(r.completedAt) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
