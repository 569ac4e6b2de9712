package gatewaytest

// Per-EID notification order (issue 17, defect 9). An SM-SR reports the state changes of one eUICC in the
// order they happened, one after the other: the next notification of an EID is posted only once the
// previous one was acknowledged (or given up). The mock does the same: every state change reserves its
// notifications' place in the EID's lane while the state lock is held, so lane order is the order of the
// changes; a change made by an API call becomes deliverable only after that call's callback went out, and
// one worker per lane posts in order. Notifications of different EIDs go out concurrently.

// noticeLane is the queue of one EID.
type noticeLane struct {
	queue   []*noticeBatch
	running bool // a worker is posting from this lane
}

// noticeBatch is the notifications of one state change.
type noticeBatch struct {
	notices []notice
	ready   bool
}

// reserveLocked queues the notifications of a state change in their EIDs' lanes, not yet deliverable.
// g.mu must be held. It returns the batches to pass to release.
func (g *Gateway) reserveLocked(notices []notice) []*noticeBatch {
	if len(notices) == 0 {
		return nil
	}
	if g.lanes == nil {
		g.lanes = make(map[string]*noticeLane)
	}
	byEID := map[string]*noticeBatch{}
	var out []*noticeBatch
	for _, n := range notices {
		b := byEID[n.eid]
		if b == nil {
			b = &noticeBatch{}
			byEID[n.eid] = b
			l := g.lanes[n.eid]
			if l == nil {
				l = &noticeLane{}
				g.lanes[n.eid] = l
			}
			l.queue = append(l.queue, b)
			out = append(out, b)
		}
		b.notices = append(b.notices, n)
	}
	return out
}

// release makes batches deliverable and starts the workers of lanes whose head is now ready.
func (g *Gateway) release(batches []*noticeBatch) {
	if len(batches) == 0 {
		return
	}
	g.mu.Lock()
	var start []string
	for _, b := range batches {
		b.ready = true
		eid := b.notices[0].eid
		if l := g.lanes[eid]; l != nil && !l.running && len(l.queue) > 0 && l.queue[0].ready {
			l.running = true
			start = append(start, eid)
		}
	}
	g.mu.Unlock()
	for _, eid := range start {
		g.spawnLane(eid)
	}
}

func (g *Gateway) spawnLane(eid string) {
	g.spawn(func() { g.drainLane(eid) })
	g.mu.Lock()
	if g.closed {
		// spawn did nothing: the mock is closing and nothing more is delivered.
		delete(g.lanes, eid)
	}
	g.mu.Unlock()
}

// drainLane posts the lane's ready batches in order and stops at the first that is not ready (its call's
// release restarts the lane) or when the lane is empty.
func (g *Gateway) drainLane(eid string) {
	for {
		g.mu.Lock()
		l := g.lanes[eid]
		if l == nil {
			g.mu.Unlock()
			return
		}
		if len(l.queue) == 0 || !l.queue[0].ready {
			l.running = false
			if len(l.queue) == 0 {
				delete(g.lanes, eid)
			}
			g.mu.Unlock()
			return
		}
		b := l.queue[0]
		l.queue = l.queue[1:]
		g.mu.Unlock()
		for _, n := range b.notices {
			g.sendNotification(n)
		}
	}
}
