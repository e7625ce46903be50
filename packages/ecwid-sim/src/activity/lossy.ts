/**
 * A lossy day: what happens to each webhook a change would send. Every decision comes from one
 * seeded generator, drawn the same number of times per webhook, so one seed always loses,
 * doubles and delays the same webhooks.
 */
export type LossyOptions = {
  /**
   * Share of webhooks never sent because the change sends none (0..1): the store changes, no
   * webhook exists. Applies to every event type, deletes included.
   */
  silentRate: number;
  /**
   * Share of the remaining webhooks Ecwid gives up on (0..1), as after 27 failed attempts over
   * 24 h: never sent, never retried.
   */
  dropRate: number;
  /** Share of sent webhooks delivered twice, with the same eventId and body (0..1). */
  duplicateRate: number;
  /** Share of sent webhooks held back so that later ones overtake them (0..1). */
  reorderRate: number;
  /**
   * How far a held-back webhook (or a duplicate's second copy) falls behind: 1 to this many
   * changes later. In real time (`start`/`step`) a change is `1000 / ratePerSecond` ms.
   */
  reorderWindow: number;
};

/** No losses; duplicates default to the delivery's `duplicateRate`. */
export const defaultLossyOptions: Omit<LossyOptions, 'duplicateRate'> = {
  silentRate: 0,
  dropRate: 0,
  reorderRate: 0,
  reorderWindow: 10,
};

/** `silent`: the change sends no webhook; `dropped`: Ecwid never delivers it; `sent`: it goes out. */
export type WebhookFate = 'silent' | 'dropped' | 'sent';

export type WebhookPlan = {
  fate: WebhookFate;
  duplicate: boolean;
  /** Changes to wait before the first copy is sent; 0 keeps it in order. */
  hold: number;
  /** Changes to wait before the second copy, when duplicated. */
  duplicateLag: number;
};

export function createWebhookPlanner(options: LossyOptions, random: () => number): () => WebhookPlan {
  const window = Math.max(1, Math.floor(options.reorderWindow));
  return () => {
    // Six draws per webhook whatever the outcome, so one decision never shifts the next ones.
    const [silent, dropped, duplicate, reorder, hold, lag] = [random(), random(), random(), random(), random(), random()];
    const fate: WebhookFate = silent < options.silentRate ? 'silent' : dropped < options.dropRate ? 'dropped' : 'sent';
    return {
      fate,
      duplicate: fate === 'sent' && duplicate < options.duplicateRate,
      hold: fate === 'sent' && reorder < options.reorderRate ? 1 + Math.floor(hold * window) : 0,
      duplicateLag: 1 + Math.floor(lag * window),
    };
  };
}
