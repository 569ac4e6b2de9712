// Package pgstore keeps esimgw's correlation state in PostgreSQL (pgx v5), so that several replicas of an
// operator service share it and a restarted process resumes what it had started.
//
// With the in-memory default, the replica that sent a request must be the one that receives its callback,
// and a restart forgets every operation in flight. With a pgstore.Store given to the Dispatcher
// (esimgw.WithStore):
//
//   - any replica can take any callback: the result is stored in the callback's request, and the waiting
//     replica is woken by LISTEN/NOTIFY within milliseconds (with a periodic re-check, so a lost
//     notification only delays);
//   - of copies of one callback delivered to several replicas at once, exactly one resolves the operation;
//   - a notification is handed over once across replicas: its MessageID is claimed (with a lease, so a
//     replica that dies mid-hand-over does not block it), handed over, then committed;
//   - every callback is acknowledged (202) only after its result is committed; a database error answers
//     503, so the gateway delivers it again;
//   - a restarted process lists what is pending (PendingOperations) and gets an Operation back for any of
//     them by FunctionCallIdentifier (es4.Client.Resume, es2.Client.Resume); if its result arrived while
//     nothing ran, Wait returns it at once;
//   - a database that cannot be reached fails a call with a *correlate.StoreError before anything is sent.
//
// Run Migrate once at start-up (it is idempotent and safe from several replicas at once), then New. The
// tables live in the pool's current schema; finished rows are swept after the retention (WithRetention).
package pgstore
