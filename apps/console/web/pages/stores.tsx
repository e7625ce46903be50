import type { MirrorStatus, Session, StoreHealth } from '../api.ts';
import { ago, count, duration, when } from '../format.ts';
import type { Loaded } from '../hooks.ts';
import { Badge, Loading, Problem, statusTone } from '../ui.tsx';

export function StoresPage({ session, status }: { session: Session; status: Loaded<MirrorStatus> }) {
  const { data, error } = status;
  if (!data) return error ? <Problem error={error} /> : <Loading />;
  // A store key's figures cover its own records only (the server computes them so): say so.
  const own = session.role === 'store';
  return (
    <>
      <Problem error={error} />
      <p class="summary">
        {own ? "Store's newest record" : 'Log head'} <b>{data.logHead.toLocaleString()}</b> · {own ? 'projected up to' : 'projection at'}{' '}
        <b>{data.projection.position.toLocaleString()}</b> ({count(data.projection.lagRecords, own ? 'document' : 'record')} behind)
        {data.rebuild && (
          <>
            {' '}
            · rebuild {data.rebuild.active ? 'running' : 'stalled'} at {data.rebuild.position.toLocaleString()} /{' '}
            {data.rebuild.head.toLocaleString()}
          </>
        )}
      </p>
      {data.stores.length === 0 && <p class="muted">No store yet: add one with ECWID_STORES or `pnpm mirror stores add`.</p>}
      <div class="cards">
        {data.stores.map((s) => (
          <StoreCard store={s} key={s.storeId} />
        ))}
      </div>
    </>
  );
}

function StoreCard({ store: s }: { store: StoreHealth }) {
  return (
    <section
      class={s.status === 'uninstalled' ? 'card store uninstalled' : 'card store'}
      data-store-id={s.storeId}
      data-status={s.status}
      aria-label={`Store ${s.storeId}`}
    >
      <header class="card-head">
        <h2>
          Store <span class="store-id">{s.storeId}</span>
        </h2>
        <Badge tone={statusTone(s.status)}>{s.status.replaceAll('_', ' ')}</Badge>
      </header>
      {s.storeName && <p class="store-name">{s.storeName}</p>}
      {s.status === 'uninstalled' && (
        <p class="reason uninstalled-note">
          The app was uninstalled{s.uninstalledAt && <> {when(s.uninstalledAt)}</>}: nothing new is mirrored, the data stays readable.
        </p>
      )}
      {s.reason && (
        <p class="reason">
          <b>Reason:</b> {s.reason}
          {s.retryAt && <> · retried {when(s.retryAt)}</>}
        </p>
      )}
      <table class="lag">
        <thead>
          <tr>
            <th>Stage</th>
            <th>Behind</th>
            <th>Backlog</th>
          </tr>
        </thead>
        <tbody>
          <tr data-stage="enrichment">
            <td>Enrichment</td>
            <td class="lag-seconds">{duration(s.lag.enrichment.seconds)}</td>
            <td>{count(s.lag.enrichment.records, 'webhook')}</td>
          </tr>
          <tr data-stage="projection">
            <td>Projection</td>
            <td class="lag-seconds">{duration(s.lag.projection.seconds)}</td>
            <td>{count(s.lag.projection.records, 'record')}</td>
          </tr>
        </tbody>
      </table>
      <dl class="facts">
        <dt>Last webhook</dt>
        <dd title={when(s.lastWebhookAt)}>{ago(s.lastWebhookAt)}</dd>
        <dt>Last fetch</dt>
        <dd title={when(s.lastFetchAt)}>{ago(s.lastFetchAt)}</dd>
        <dt>Last reconcile</dt>
        <dd title={when(s.lastReconcileAt)}>{ago(s.lastReconcileAt)}</dd>
        <dt>Parked</dt>
        <dd>{s.parkedOpen > 0 ? <a href="#/parked">{count(s.parkedOpen, 'webhook')}</a> : 'none'}</dd>
        <dt>Installed</dt>
        <dd class="installed-at">{s.installedAt ? when(s.installedAt) : 'unknown'}</dd>
        {s.uninstalledAt && (
          <>
            <dt>Uninstalled</dt>
            <dd class="uninstalled-at">{when(s.uninstalledAt)}</dd>
          </>
        )}
        <dt>Token</dt>
        <dd class="token">
          {/* The fingerprint only: it tells tokens apart, and the token itself never reaches the console. */}
          {s.tokenFingerprint ? (
            <code class="fingerprint" title="SHA-256 of the token, first 12 hex digits">
              {s.tokenFingerprint}
            </code>
          ) : s.hasToken ? (
            'yes'
          ) : (
            'missing'
          )}
        </dd>
        <dt>Scopes</dt>
        <dd class="scopes">
          {s.scopes === null ? (
            <span class="muted">unknown</span>
          ) : s.scopes.length === 0 ? (
            'none'
          ) : (
            s.scopes.map((scope) => (
              <code class="scope" key={scope}>
                {scope}
              </code>
            ))
          )}
        </dd>
        {s.catchUp && (
          <>
            <dt>Catch-up</dt>
            <dd class="catch-up" title="work a new token asks for, done by the projector">
              {s.catchUp === 'backfill' ? 'backfill (history) to do' : 'reconcile to do'}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
