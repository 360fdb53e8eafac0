// What one instance of the shared store hears of the others: LISTEN on the channels the database notifies when a job
// is accepted (props_accepted) and when jobs finish (props_finished).
import type { StoreEvents } from '../types.ts';
import type { PgContext } from './context.ts';

/**
 * The driver listens on a connection of its own and listens again by itself after that connection is lost; a
 * subscription that cannot be made (the database is down) is tried again each second. Returns unsubscribe.
 */
export function pgWatch({ sql, isClosed }: PgContext, events: StoreEvents): () => void {
  let stopped = false;
  const subscribed: Array<{ unlisten(): Promise<void> }> = [];
  const subscribe = (channel: string, hear: (payload: string) => void) => {
    const safely = (payload: string) => {
      try {
        hear(payload);
      } catch {
        // a listener's failure must not take the subscription down
      }
    };
    sql.listen(channel, safely).then(
      (meta) => (stopped ? void meta.unlisten().catch(() => {}) : void subscribed.push(meta)),
      () =>
        void (
          !stopped &&
          !isClosed() &&
          setTimeout(() => !stopped && !isClosed() && subscribe(channel, hear), 1000).unref()
        ),
    );
  };
  subscribe('props_accepted', (key) => events.accepted(key));
  subscribe('props_finished', (ids) => events.finished(ids.split(',')));
  return () => {
    stopped = true;
    for (const meta of subscribed.splice(0)) void meta.unlisten().catch(() => {});
  };
}
