import { expect, test } from 'vitest';
import { createMetrics } from './metrics.ts';

test('renders counters, histograms and scrape-time gauges in Prometheus text format', async () => {
  let probes = 0;
  const metrics = createMetrics({
    defaultMetrics: false,
    probe: async () => {
      probes += 1;
      return {
        logHead: 42,
        parked: 3,
        lag: [{ stage: 'projection', records: 7, seconds: 1.5 }],
        personalDataRequests: { awaiting_confirmation: 2, failed: 1 },
      };
    },
  });
  metrics.webhooks.inc({ event_type: 'order.created', outcome: 'inserted' });
  metrics.groupCommitSize.observe(17);
  metrics.restCalls.inc({ status: '429' });

  const text = await metrics.render();
  expect(text).toContain('mirror_webhooks_total{event_type="order.created",outcome="inserted"} 1');
  expect(text).toContain('mirror_ingest_batch_size_count 1');
  expect(text).toContain('mirror_ecwid_requests_total{status="429"} 1');
  expect(text).toContain('mirror_log_head_position 42');
  expect(text).toContain('mirror_parked_events 3');
  expect(text).toContain('mirror_stage_lag_records{stage="projection"} 7');
  expect(text).toContain('mirror_stage_lag_seconds{stage="projection"} 1.5');
  expect(text).toContain('mirror_personal_data_requests{status="awaiting_confirmation"} 2');
  expect(text).toContain('mirror_personal_data_requests{status="received"} 0');
  expect(text).toContain('mirror_personal_data_requests{status="failed"} 1');
  expect(probes).toBe(1); // one database probe per scrape, shared by every gauge
});
