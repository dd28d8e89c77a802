package mongodb

import "time"

// SetCrashPoint makes s's writes with events stop after stage ("intent"
// or "record") as a process that died there would, or run whole ("").
func SetCrashPoint(s *RecordStore, stage string) { s.crashAt = stage }

// SetIntentSettle sets how long recovery waits for a dead process's writes
// to land before it judges their intents; it returns the previous value.
func SetIntentSettle(d time.Duration) time.Duration {
	prev := intentSettle
	intentSettle = d
	return prev
}
