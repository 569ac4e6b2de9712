package campaign

import (
	"github.com/riverqueue/river"
)

// JobKind is the River job kind of a campaign EID.
const JobKind = "esimgw_campaign_eid"

// jobArgs are a campaign EID's River job: small on purpose (the per-EID argument and results live in
// esimgw_campaign_item). All three fields make the job's unique key, so an EID is queued once per round.
type jobArgs struct {
	Campaign int64  `json:"c" river:"unique"`
	EID      string `json:"e" river:"unique"`
	Round    int    `json:"r" river:"unique"`
}

// Kind implements river.JobArgs.
func (jobArgs) Kind() string { return JobKind }

func (c *Campaign) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: c.Queue, MaxAttempts: c.MaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}
