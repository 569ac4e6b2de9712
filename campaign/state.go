package campaign

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// State is a campaign's state.
type State string

// Campaign states.
const (
	StateRunning   State = "running"
	StatePaused    State = "paused"
	StateCancelled State = "cancelled"
)

// Campaign is a campaign's row.
type Campaign struct {
	ID            int64
	Key           string
	Function      string
	Arg           string
	State         State
	LimitName     string
	Queue         string
	ResultTimeout time.Duration
	MaxAttempts   int
	Total         int64 // EIDs queued
	BadLines      int64 // input lines refused
	Round         int   // the latest RetryFailed round (1 before any)
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const campaignColumns = `id, key, function, arg, state, limit_name, queue, result_timeout_ms, max_attempts, total, bad_lines, round, created_at, updated_at`

func scanCampaign(row pgx.Row) (Campaign, error) {
	var c Campaign
	var ms int64
	err := row.Scan(&c.ID, &c.Key, &c.Function, &c.Arg, &c.State, &c.LimitName, &c.Queue, &ms, &c.MaxAttempts,
		&c.Total, &c.BadLines, &c.Round, &c.CreatedAt, &c.UpdatedAt)
	c.ResultTimeout = time.Duration(ms) * time.Millisecond
	return c, err
}

// item states (esimgw_campaign_item.state).
const (
	itemPending   = "pending"   // not sent (or sending failed and will be retried)
	itemSending   = "sending"   // the request may be on its way: holds an in-flight slot
	itemSent      = "sent"      // accepted (202); the result is awaited: holds an in-flight slot
	itemDone      = "done"      // outcome recorded
	itemCancelled = "cancelled" // the campaign was cancelled before the EID's request was sent
)
