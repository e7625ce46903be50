export { reconcile, type KindReport, type ReconcileCounts, type ReconcileMode, type ReconcileOptions } from './reconcile.ts';
export { reconcileSpecs, type ReconcileSpec } from './reconcile-specs.ts';
export { runReconcileSchedule, type ReconcileScheduleOptions } from './run-reconcile-schedule.ts';
