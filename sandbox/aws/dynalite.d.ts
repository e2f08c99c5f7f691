declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    path?: string;
  }

  /** dynalite ships no types: an HTTP server speaking DynamoDB's JSON protocol. */
  export default function dynalite(options?: DynaliteOptions): Server;
}

declare module 'dynalite/db/index.js' {
  /** dynalite's storage module (CommonJS): its functions, as the actions call them. */
  const db: Record<string, unknown>;
  export default db;
}
