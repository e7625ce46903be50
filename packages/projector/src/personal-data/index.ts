export {
  claimNext,
  createRequest,
  getRequest,
  intakeRequests,
  listRequests,
  openRequests,
  processRequests,
  RequestInputError,
  runPersonalDataWorker,
  runRequest,
  type NewRequest,
  type PersonalDataWorkerOptions,
  type RequestKind,
  type RequestRow,
  type RequestScope,
} from './requests.ts';
export { readExport } from './export.ts';
export { eraseOnAppend } from './erase-on-append.ts';
