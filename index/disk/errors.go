package disk

import (
	"errors"
	"fmt"
	"strings"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrDiskFull says a write failed because the file system holding the
// database has no room left (SQLITE_FULL, ENOSPC, or EFBIG under a file-size
// limit). Nothing of the failed transaction was stored and the database is
// intact; the same write succeeds once space is freed, without reopening the
// Store.
var ErrDiskFull = errors.New("disk: no space left for the index")

// markFull wraps err with ErrDiskFull when SQLite reports a full disk, so
// callers can tell "free some space" from other write failures. Other
// errors are returned unchanged.
func markFull(err error) error {
	if err == nil || errors.Is(err, ErrDiskFull) || !isFull(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrDiskFull, err)
}

// isFull recognises SQLite's ways of saying the disk is full. SQLite maps a
// short write to SQLITE_FULL, but growing the WAL index (-shm) or a failed
// fsync surface as SQLITE_IOERR_* with the system error only in the text.
func isFull(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return true
	case sqlite3.SQLITE_IOERR:
		msg := strings.ToLower(se.Error())
		return strings.Contains(msg, "no space") || strings.Contains(msg, "file too large")
	}
	return false
}
