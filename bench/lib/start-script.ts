import { readFileSync } from 'node:fs';

/**
 * `pnpm start` as package.json's script has it (`exec [env NAME=value…] node <arguments>
 * apps/mirror/src/cli.ts start`): the environment it sets and node's arguments, so that benches
 * run the demo exactly as a user does.
 */
export function startScript(packageJson: string): { env: Record<string, string>; nodeArgs: string[] } {
  const script = (JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const words = script.split(/\s+/).filter((word) => !['exec', 'env', 'node', 'start'].includes(word) && !word.endsWith('cli.ts'));
  const isSetting = (word: string) => /^[A-Z_]+=/.test(word);
  return {
    env: Object.fromEntries(words.filter(isSetting).map((word) => word.split('=', 2) as [string, string])),
    nodeArgs: words.filter((word) => !isSetting(word)),
  };
}
