package zkcluster

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DebianRelease names Debian's zookeeper package, the default release.
const DebianRelease = "3.8.0-debian"

// ReleasesEnv names the environment variable listing the releases a
// release matrix runs, comma-separated, e.g. "3.8.0-debian,3.9.5".
const ReleasesEnv = "ZK_VERSIONS"

// AllReleases are Debian's package and the newest release of every line
// that can be fetched (3.9.6 and 3.8.7 are listed on Maven Central without
// their parent POM, so their dependencies cannot be resolved): what a
// matrix runs without ReleasesEnv, and with "all".
var AllReleases = []string{DebianRelease, "3.9.5", "3.8.6", "3.7.2", "3.6.4", "3.5.10", "3.4.14"}

// DefaultReleases are the releases a matrix runs without ReleasesEnv.
var DefaultReleases = AllReleases

// Releases returns the releases named by ReleasesEnv ("all" for
// AllReleases), else DefaultReleases. Every name is checked.
func Releases() ([]Release, error) {
	names := DefaultReleases
	switch v := strings.TrimSpace(os.Getenv(ReleasesEnv)); v {
	case "":
	case "all":
		names = AllReleases
	default:
		names = strings.Split(v, ",")
	}
	var out []Release
	for _, name := range names {
		r, err := ParseRelease(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ReleasesEnv, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Release is a ZooKeeper release a Cluster runs: Debian's package, or a
// release fetched from Maven Central (see Fetch).
type Release struct {
	// Name is how the release is asked for: "3.8.0-debian" or "3.9.5".
	Name string
	// Version is the upstream version, "3.8.0".
	Version string
	// Debian is true for Debian's package.
	Debian bool
	// Major and Minor are the release line, 3 and 8 for 3.8.0.
	Major, Minor int
}

// ParseRelease reads a release name: "<version>-debian" (or "" and
// "debian", both Debian's package) or a version "3.N.M" to fetch.
func ParseRelease(name string) (Release, error) {
	if name == "" || name == "debian" {
		name = DebianRelease
	}
	version, debian := strings.CutSuffix(name, "-debian")
	parts := strings.Split(version, ".")
	if len(parts) != 3 {
		return Release{}, fmt.Errorf("zkcluster: release %q is not 3.N.M or 3.N.M-debian", name)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Release{}, fmt.Errorf("zkcluster: release %q is not 3.N.M or 3.N.M-debian", name)
		}
		nums[i] = n
	}
	if nums[0] != 3 || nums[1] < 4 {
		return Release{}, fmt.Errorf("zkcluster: release %q: only 3.4 and later are supported", name)
	}
	return Release{Name: name, Version: version, Debian: debian, Major: nums[0], Minor: nums[1]}, nil
}

// Line is the release line, "3.8".
func (r Release) Line() string { return fmt.Sprintf("%d.%d", r.Major, r.Minor) }

// String is the release's name.
func (r Release) String() string { return r.Name }

// atLeast reports whether r is release line major.minor or later.
func (r Release) atLeast(major, minor int) bool {
	return r.Major > major || r.Major == major && r.Minor >= minor
}

// HasAdminServer reports whether the release has the AdminServer (3.5+).
func (r Release) HasAdminServer() bool { return r.atLeast(3, 5) }

// HasReconfig reports whether the release has dynamic reconfiguration and
// membership in conf (3.5+).
func (r Release) HasReconfig() bool { return r.atLeast(3, 5) }

// DefaultWhitelistAll reports whether a member without
// 4lw.commands.whitelist answers every word (3.4) rather than srvr only.
func (r Release) DefaultWhitelistAll() bool { return !r.atLeast(3, 5) }
