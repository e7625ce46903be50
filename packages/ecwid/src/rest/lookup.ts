/**
 * A read of one entity by id. `gone` is Ecwid's 404 (deleted or never existed): an expected
 * outcome the projector turns into a tombstone, so it is a value, not an exception.
 */
export type EcwidLookup<T> = { status: 'ok'; value: T } | { status: 'gone'; errorCode: string | undefined };
