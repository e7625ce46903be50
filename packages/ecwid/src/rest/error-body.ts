const maxErrorMessageLength = 300;

/** Ecwid's error fields: `{errorCode, errorMessage}`, or legacy `{error, errorMessage}` / `{error_message}`. */
export type EcwidErrorFields = { errorCode: string | undefined; errorMessage: string | undefined };

/** Reads the error fields from a parsed body; anything else yields undefined fields. */
export function readErrorFields(body: unknown): EcwidErrorFields {
  if (typeof body !== 'object' || body === null) return { errorCode: undefined, errorMessage: undefined };
  const fields = body as Record<string, unknown>;
  const errorCode = firstString(fields['errorCode'], fields['error']);
  const errorMessage = firstString(fields['errorMessage'], fields['error_message']);
  return { errorCode, errorMessage: errorMessage?.slice(0, maxErrorMessageLength) };
}

/** Same, from the raw text of an error response (which may not be JSON at all). */
export function readErrorText(text: string): EcwidErrorFields {
  try {
    return readErrorFields(JSON.parse(text));
  } catch {
    return { errorCode: undefined, errorMessage: undefined };
  }
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === 'string' && value !== '');
}
