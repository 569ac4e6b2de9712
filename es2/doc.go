// Package es2 is the operator's client for SGP.02 ES2: the interface on which an operator asks an SM-DP to
// download a profile to an eUICC (optionally enabling it), and to enable, disable or delete it through the
// eUICC's SM-SR, as KPN's RSP Gateway serves it.
//
// One Client talks to one SM-DP for the eUICCs of one SM-SR: the SM-SR ID goes into every request (spelled
// SmSr-id in DownloadProfile and EnableProfile, Smsr-id elsewhere, as the GSMA schema has it) and KPN checks
// access with it. The machinery is the root package's, shared with package es4:
//
//   - GetEIS, UpdatePolicyRules and UpdateSubscriptionAddress are synchronous and return their result.
//   - DownloadProfile, EnableProfile, DisableProfile, DeleteProfile and SetFallBackAttribute are
//     asynchronous: they return an *esimgw.Operation whose Wait gives the result once the SM-DP posts its
//     callback to the replyTo address, where an callback.Server serves an esimgw.Dispatcher. One
//     Dispatcher and one server take the callbacks and notifications of ES2 and ES4 alike: the body element
//     says which.
//   - Arguments are validated before anything is sent (*esimgw.ValidationError); FAILED and EXPIRED results
//     are *esimgw.FunctionError; EXECUTED_WITHWARNING is a success whose result carries a Warning.
//     esimgw.OutcomeOf, and the Outcome methods of results and of Activation, flatten any of these into
//     the status row REST platforms show (Verizon's euiccStatus and euiccStatusCode).
//
// Notifications (HandleProfileEnabledNotification and the others) reach the Dispatcher's
// esimgw.NotificationHandler. A Watcher wraps that handler so code can wait for the notification about one
// profile; Activate uses it.
//
// Activate is the multistep operation device platforms offer (Digi Remote Manager's starting, download,
// download_verify, enable, enable_verify, failed, successful): it downloads with EnableProfile=true, waits
// for the callback, verifies the enable with an ES2 notification (WithNotificationVerifier) or an ES4
// audit (WithAuditVerifier, given an *es4.Client), reports each step, and can feed a progress.Board next to
// ES2+ progress. A profile downloaded but not enabled is a warning (Outcome EXECUTED_WITHWARNING), not an
// error.
//
// KPN sends no HandleProfileEnabledNotification for an enable you asked for (docs/kpn.md R9): against KPN,
// verify with an ES4 audit, or take the callback's word.
package es2
