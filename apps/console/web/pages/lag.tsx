import { call, type LagHistory, type Session, type StoreHealth } from '../api.ts';
import { count, duration } from '../format.ts';
import { usePoll } from '../hooks.ts';
import { LagChart } from '../lag-chart.tsx';
import { Loading, Problem } from '../ui.tsx';

export function LagPage({ session, stores }: { session: Session; stores: StoreHealth[] }) {
  if (stores.length === 0) return <Loading />;
  return (
    <>
      <p class="muted">
        Each store's lag over the last hour, sampled by this server every few seconds: how far behind each stage is (seconds since the
        oldest record it has not handled) and how many records wait. Enrichment fetches what webhooks name; projection writes the fetched
        documents into the tables.
      </p>
      {stores.map((s) => (
        <StoreLag session={session} store={s} key={s.storeId} />
      ))}
    </>
  );
}

function StoreLag({ session, store }: { session: Session; store: StoreHealth }) {
  const history = usePoll(() => call<LagHistory>(session.token, `/v1/stores/${store.storeId}/lag-history?minutes=60`), 5000, [
    session.token,
    store.storeId,
  ]);
  const samples = history.data?.samples ?? [];
  const last = samples.at(-1);
  return (
    <section class="card" data-store-id={store.storeId}>
      <header class="card-head">
        <h2>
          Store <span class="store-id">{store.storeId}</span>
          {store.storeName ? ` · ${store.storeName}` : ''}
        </h2>
        {last && (
          <span class="now-lag">
            now: enrichment {duration(last.enrichment.seconds)} ({count(last.enrichment.records, 'webhook')}), projection{' '}
            {duration(last.projection.seconds)} ({count(last.projection.records, 'record')})
          </span>
        )}
      </header>
      <Problem error={history.error} />
      {!history.data ? (
        <Loading />
      ) : samples.length < 2 ? (
        <p class="muted">Collecting samples… (the chart starts when the server does)</p>
      ) : (
        <div class="charts">
          <LagChart samples={samples} unit="seconds" title="Behind (seconds)" />
          <LagChart samples={samples} unit="records" title="Backlog (records)" />
        </div>
      )}
    </section>
  );
}
