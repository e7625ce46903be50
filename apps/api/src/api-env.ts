import type { Logger } from '@mirror/core';
import type { Principal } from './auth.ts';

/** Variables the middleware sets for handlers. */
export type ApiEnv = {
  Variables: {
    log: Logger;
    principal: Principal;
    /** The store in the URL, once the caller may read it and it exists. */
    storeId: number;
  };
};
