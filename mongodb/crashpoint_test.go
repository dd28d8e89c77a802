package mongodb

// SetCrashPoint makes s's writes with events stop after stage ("intent"
// or "record") as a process that died there would, or run whole ("").
func SetCrashPoint(s *RecordStore, stage string) { s.crashAt = stage }
