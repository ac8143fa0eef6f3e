//go:build !unix

package zkcluster

// lockFile does not lock where flock is missing: concurrent fetches then
// both run, and the second rename into place fails without harm.
func lockFile(string) (func(), error) { return func() {}, nil }
