package zkcluster

import (
	"slices"
	"testing"
)

func TestParseRelease(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		want                  Release
		admin, reconfig, all4 bool
	}{
		{"", Release{Name: DebianRelease, Version: "3.8.0", Debian: true, Major: 3, Minor: 8}, true, true, false},
		{"debian", Release{Name: DebianRelease, Version: "3.8.0", Debian: true, Major: 3, Minor: 8}, true, true, false},
		{"3.9.5", Release{Name: "3.9.5", Version: "3.9.5", Major: 3, Minor: 9}, true, true, false},
		{"3.5.10", Release{Name: "3.5.10", Version: "3.5.10", Major: 3, Minor: 5}, true, true, false},
		{"3.4.14", Release{Name: "3.4.14", Version: "3.4.14", Major: 3, Minor: 4}, false, false, true},
	} {
		got, err := ParseRelease(tc.name)
		if err != nil || got != tc.want {
			t.Errorf("ParseRelease(%q) = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
		if got.HasAdminServer() != tc.admin || got.HasReconfig() != tc.reconfig || got.DefaultWhitelistAll() != tc.all4 {
			t.Errorf("%s: admin %v reconfig %v all words %v", tc.name, got.HasAdminServer(), got.HasReconfig(), got.DefaultWhitelistAll())
		}
	}
	for _, bad := range []string{"3.9", "3.3.6", "4.0.0", "3.x.1", "3.9.5-ubuntu", "-debian"} {
		if _, err := ParseRelease(bad); err == nil {
			t.Errorf("ParseRelease(%q) accepted", bad)
		}
	}
}

func TestReleases(t *testing.T) {
	names := func(rs []Release) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	for _, tc := range []struct {
		env  string
		want []string
	}{
		{"", DefaultReleases},
		{"all", AllReleases},
		{"3.9.5, 3.4.14", []string{"3.9.5", "3.4.14"}},
	} {
		t.Setenv(ReleasesEnv, tc.env)
		got, err := Releases()
		if err != nil || !slices.Equal(names(got), tc.want) {
			t.Errorf("%s=%q: %v, %v; want %v", ReleasesEnv, tc.env, names(got), err, tc.want)
		}
	}
	t.Setenv(ReleasesEnv, "3.9.5,3.9")
	if _, err := Releases(); err == nil {
		t.Errorf("%s=3.9.5,3.9 accepted", ReleasesEnv)
	}
}
