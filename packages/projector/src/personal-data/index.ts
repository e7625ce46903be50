export {
  claimNext,
  claimRequest,
  intakeRequests,
  openRequests,
  processRequests,
  runPersonalDataWorker,
  runRequest,
  type ErasureWebhooks,
  type PersonalDataWorkerOptions,
  type RequestRow,
} from './requests.ts';
export { eraseOnAppend } from './erase-on-append.ts';
