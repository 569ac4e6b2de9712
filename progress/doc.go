// Package progress keeps a per-ICCID view of eSIM profile provisioning that
// an operator can poll or subscribe to, whatever interface reported it.
//
// SGP.02 (M2M) operations reported over ES2/ES4 callbacks and SGP.22
// (consumer/IoT) downloads reported by an SM-DP+ over ES2+
// HandleDownloadProgressInfo are mapped onto one ordered set of stages
// ([StageRequested], [StageDownloaded], [StageInstalled], [StageEnabled],
// [StageDisabled], [StageDeleted]) plus two failure outcomes ([StageFailed],
// [StageExpired]), so a dashboard shows M2M and consumer downloads alike.
//
// A [Board] is safe for concurrent use. Producers call [Board.Update] with an
// [Event]; readers call [Board.Get], [Board.GetByEID] or [Board.Snapshot], or
// [Board.Subscribe] to a stream of [Change] values. Update never blocks on a
// subscriber: a subscriber whose buffer is full misses that change, and the
// miss is counted in [Board.Dropped]. A subscriber that must not miss
// anything uses a buffer large enough for its bursts and re-reads
// [Board.Snapshot] when Dropped grows.
//
// Memory is bounded with [WithMaxEntries]: past the limit the least recently
// updated finished entry (outcome not [OutcomePending]) is evicted first, and
// only when every entry is still pending the least recently updated pending
// one. Each entry keeps its last few events ([WithHistory]).
//
// ICCIDs are keyed in normalised form (trailing 'F' padding removed, letters
// upper-cased), so "8931041010654378930F" and "8931041010654378930" are the
// same profile.
//
// How interfaces map onto stages:
//
//	ES2+ (SGP.22) notificationPointId   stage
//	3  BPP downloaded                   Downloaded
//	4  BPP installed                    Installed (Failed/Expired per status)
//	6  enabled locally                  Enabled
//	7  disabled locally                 Disabled
//	8  deleted locally                  Deleted
//	1, 2 retries exhausted              Failed
//
//	ES2/ES4 (SGP.02), for the callback integration:
//	DownloadProfile sent                Requested
//	HandleDownloadProfile... success    Installed
//	EnableProfile success               Enabled
//	DisableProfile success              Disabled
//	DeleteProfile / ISDP deleted        Deleted
//	any FunctionExecutionStatus Failed  Failed (Attempted = the step)
//	Expired                             Expired
//
// On any platform (es4, es2, thingspace, digirm), [Watch] puts an esimgw.ProfileManager operation on
// a board as it starts and as it settles, with the platform (the operation's Interface) as Source;
// [Requested] and [Settled] are the events it puts there:
//
//	operation                           stage
//	started (Enable, Disable, Delete,   Requested (Attempted = the step asked for)
//	  Download)
//	*Result, *DownloadResult            the step asked for: Enabled, Disabled, Deleted, Installed
//	*FunctionError FAILED               Failed (Attempted = the step), status and codes as reported
//	*FunctionError EXPIRED              Expired (Attempted = the step)
//	no result before the wait ended     Expired (status NO_RESULT)
//	any other error                     Failed (status ERROR)
package progress
