package soap

import (
	"errors"
	"io"
	"sync"
)

// BodyBudget bounds the memory that inbound bodies being read may take together: a semaphore on bytes.
// A Handler reads a body into a buffer that grows as bytes arrive (never to the size a Content-Length
// announces before the bytes are there), and takes every growth from the budget; a body whose next
// growth the budget cannot cover is refused with 503 and Retry-After, which a gateway retries, and the
// bytes it held go back. Many slow senders announcing large bodies therefore cost at most the budget,
// not their announced sizes. One budget may be shared by several Handlers (a CallbackServer's routes).
type BodyBudget struct {
	mu   sync.Mutex
	max  int64
	used int64
}

// DefaultBodyBudget is the budget of a CallbackServer unless configured otherwise: eight envelopes of
// DefaultMaxMessageBytes at once.
const DefaultBodyBudget = 8 * DefaultMaxMessageBytes

// NewBodyBudget returns a budget of max bytes (DefaultBodyBudget when max <= 0).
func NewBodyBudget(max int64) *BodyBudget {
	if max <= 0 {
		max = DefaultBodyBudget
	}
	return &BodyBudget{max: max}
}

// InUse returns the bytes currently held by bodies being read or handled.
func (b *BodyBudget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Max returns the budget.
func (b *BodyBudget) Max() int64 { return b.max }

func (b *BodyBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *BodyBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// ErrBudgetExhausted: the body could not be read within the Handler's BodyBudget; the sender should
// retry later (the Handler answers 503 with Retry-After).
var ErrBudgetExhausted = errors.New("soap: inbound body budget exhausted")

// firstRead is the buffer a body starts in: most envelopes fit, and a sender announcing megabytes gets
// no more than this before it has sent them.
const firstRead = 16 << 10

// readBudgeted reads r to its end into a buffer that grows (doubling) as bytes arrive, up to max bytes,
// taking each growth from b. size is the announced length (a Content-Length), -1 when unknown: a body
// announced shorter than firstRead starts in a buffer of its size (and a byte for the read that sees
// EOF) instead of firstRead, since a callback of a kilobyte or two would otherwise cost 16 KiB of memory
// to clear and collect; a longer one starts at firstRead as before, its announcement not trusted. It
// returns the bytes held from b, to give back once the body is no longer needed, also on error.
func readBudgeted(r io.Reader, size, max int64, b *BodyBudget) (data []byte, held int64, err error) {
	tooLarge := func() error { return &EnvelopeError{Kind: ErrTooLarge, Detail: "over " + itoa(max) + " bytes"} }
	grow := func(to int64) bool {
		if b != nil && !b.take(to-int64(cap(data))) {
			return false
		}
		held += to - int64(cap(data))
		nd := make([]byte, len(data), to)
		copy(nd, data)
		data = nd
		return true
	}
	for {
		if len(data) == cap(data) {
			next := int64(cap(data)) * 2
			if next == 0 {
				next = firstRead
				if size >= 0 && size < firstRead {
					next = size + 1
				}
			}
			// One byte past max is the proof of excess.
			if next > max+1 {
				next = max + 1
			}
			if next <= int64(cap(data)) {
				return data, held, tooLarge()
			}
			if !grow(next) {
				return data, held, ErrBudgetExhausted
			}
		}
		n, rerr := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) > max {
			return data, held, tooLarge()
		}
		if rerr == io.EOF {
			return data, held, nil
		}
		if rerr != nil {
			return data, held, rerr
		}
	}
}
