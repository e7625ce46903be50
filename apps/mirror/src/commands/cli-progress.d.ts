// cli-progress ships no types; this declares the part the mirror CLI uses.
declare module 'cli-progress' {
  export type Options = {
    format?: string;
    hideCursor?: boolean;
    clearOnComplete?: boolean;
    etaBuffer?: number;
    stream?: NodeJS.WritableStream;
  };
  export class SingleBar {
    constructor(options: Options, preset?: unknown);
    start(total: number, startValue: number, payload?: Record<string, unknown>): void;
    update(value: number, payload?: Record<string, unknown>): void;
    setTotal(total: number): void;
    stop(): void;
  }
  export const Presets: { shades_classic: unknown; legacy: unknown; rect: unknown };
  const cliProgress: { SingleBar: typeof SingleBar; Presets: typeof Presets };
  export default cliProgress;
}
