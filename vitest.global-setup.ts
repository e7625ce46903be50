import type { TestProject } from 'vitest/node';
import { prepareTestBackend } from '@mirror/db/testing';

/** Chooses the integration-test database once per run and says which, on the console. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { backend, stop } = await prepareTestBackend(process.env, (line) => console.log(line));
  project.provide('testBackend', backend);
  return stop;
}
