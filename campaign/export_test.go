package campaign

// WithAfterSendHook runs f after a carrier platform's request was sent, before (recorded false) and
// after (recorded true) its request ID is committed; an error from f ends the job's attempt there, as a
// crash would, and River retries it.
func WithAfterSendHook(f func(eid string, recorded bool) error) WorkerOption {
	return func(c *workerConfig) { c.afterSend = f }
}
