package membership

// Recorder receives counters and gauges. internal/metrics may implement it;
// nil means no metrics.
type Recorder interface {
	// HeartbeatSent counts one heartbeat handed to memberlist; ok is false
	// when the send returned an error.
	HeartbeatSent(ok bool)
	// HeartbeatReceived counts one user message; ok is false when it was
	// not a valid heartbeat for this speaker.
	HeartbeatReceived(ok bool)
	// StatusChanged reports the published view after each change.
	StatusChanged(live, known int, isolated bool)
}

type nopRecorder struct{}

func (nopRecorder) HeartbeatSent(bool)           {}
func (nopRecorder) HeartbeatReceived(bool)       {}
func (nopRecorder) StatusChanged(int, int, bool) {}
