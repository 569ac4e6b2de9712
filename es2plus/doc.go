// Package es2plus receives SGP.22 ES2+ HandleDownloadProgressInfo
// notifications: the JSON webhooks an SM-DP+ (for example Telna's Cronus
// Flex Portal) POSTs to the operator for each step of a consumer/IoT
// profile download.
//
// [Decode] parses and validates a body into a [DownloadProgressInfo]
// (typed [FieldError] and [SyntaxError]), accepting the variants seen in
// the wild without ever emitting them. [ParseResultData] decodes resultData,
// the DER ProfileInstallationResultData, into success or an error with its
// bppCommandId and errorReason names; the raw bytes are always kept.
//
// [HTTPHandler] mounts on the ES2/ES4 callback server at [Path]:
//
//	board := progress.NewBoard(progress.WithMaxEntries(100000))
//	h := es2plus.NewHTTPHandler(es2plus.FeedBoard(board, app))
//	mux.Handle(es2plus.Path, h)
//
// It answers 204 No Content once the application accepted the
// notification (SGP.22 receivers answer 204 and pySim's sender expects
// exactly that; [WithStatusOK] answers 200 with an ES2+ response body
// instead), 4xx with a JSON error body for invalid input or a [RejectError],
// and 500 when the application fails so the SM-DP+ retries. Notifications
// are de-duplicated in bounded memory. AWS SNS envelopes (Telna delivers
// through SNS) are accepted with [WithSNS], signatures verified by default.
//
// [ProgressEvent] and [FeedBoard] map notifications onto the shared
// [progress.Board], next to SGP.02 operations.
package es2plus
