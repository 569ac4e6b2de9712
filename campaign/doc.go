// Package campaign runs fleet campaigns that survive restarts and spread over worker processes: a named
// run of one function (ES2, ES4, or a ThingSpace or Digi Remote Manager profile action) over a list of EIDs (millions, streamed from a file), each EID one River job
// (github.com/riverqueue/river) in the same PostgreSQL as the rest of the operator's state.
//
// A Manager creates campaigns (Create, from a Source: Lines, CSV, JSONLines), reports on them and
// controls them; a Worker, in any number of processes pointed at the same database, runs their jobs.
// Migrate creates River's tables and the campaign tables, safely from several replicas at once.
//
//	if err := campaign.Migrate(ctx, pool); err != nil { ... }
//	m, _ := campaign.NewManager(pool)
//	rep, err := m.Create(ctx, campaign.Spec{Key: "fallback-2026-12", Function: "ES4.SetFallBackAttribute",
//		Rate: 200, Burst: 20}, campaign.CSV(file))
//	// rep.BadLines: each bad line by number; the rest is queued (or nothing, with RefuseBadInput)
//
// Guarantees:
//
//   - Create is one transaction: every good EID is queued, or nothing is. Calling it again with the same
//     key queues only the EIDs not yet in the campaign, so an EID is never queued twice.
//   - An EID's FunctionCallIdentifier, cmp-<key>-<round>-<EID>, is fixed when it is queued and reused by
//     every retry of its job, in whatever process: a gateway that de-duplicates (as SGP.02 gateways do)
//     runs the function once. Only RetryFailed starts a new round, and so a new function call.
//   - ThingSpace.* and DigiRM.* EIDs, whose platforms do not de-duplicate, are sent at most once a round:
//     the platform's request ID is committed with the move to sent, a job that runs again resumes that
//     request (waits for its callback, polls its transaction), and a request that may have run without an
//     answer is recorded "outcome unknown ... audit first" (DescriptionOutcomeUnknown), never resent.
//   - Rate and in-flight limits hold across every worker together (one SQL statement on a token table).
//   - A job waiting for its asynchronous result snoozes instead of holding a River worker.
//   - Results are recorded in the database before a callback is acknowledged (see Worker), so a worker
//     killed at any moment loses nothing: its jobs are rescued by River and find their results there.
package campaign
