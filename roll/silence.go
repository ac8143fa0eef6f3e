package roll

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MemberAlerts are the mixin's alerts about one member that a restart sets
// off by design: down, flapping, not serving, behind. Only these are
// silenced, and only for the member being restarted; the quorum alerts
// (lost, at risk, fault tolerance reduced) never are: they are what says
// that a roll is going wrong.
var MemberAlerts = []string{"ZooKeeperVoterDown", "ZooKeeperObserverDown", "ZooKeeperVoterFlapping", "ZooKeeperMemberNotServing", "ZooKeeperFollowerBehind"}

// silencer creates and expires silences through Alertmanager's API v2.
type silencer struct {
	base   string // Alertmanager's URL, without a trailing slash
	client *http.Client
}

func newSilencer(base string) (*silencer, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--alertmanager.url %q: want http(s)://host:port", base)
	}
	return &silencer{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: 10 * time.Second}}, nil
}

type matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

type silence struct {
	Matchers  []matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
}

// create silences the member alerts of one member until end, and returns
// the silence's id.
func (s *silencer) create(ctx context.Context, ensemble, member string, end time.Time) (string, error) {
	body, err := json.Marshal(silence{
		Matchers: []matcher{
			{Name: "alertname", Value: strings.Join(MemberAlerts, "|"), IsRegex: true, IsEqual: true},
			{Name: "ensemble", Value: ensemble, IsEqual: true},
			{Name: "member", Value: member, IsEqual: true},
		},
		StartsAt: time.Now(), EndsAt: end, CreatedBy: "zookeeper_exporter roll",
		Comment: fmt.Sprintf("rolling restart of %s in %s: its member alerts only, until it has caught up", member, ensemble),
	})
	if err != nil {
		return "", err
	}
	var created struct {
		SilenceID string `json:"silenceID"`
	}
	if err := s.do(ctx, http.MethodPost, "/api/v2/silences", body, &created); err != nil {
		return "", fmt.Errorf("creating a silence for %s: %w", member, err)
	}
	if created.SilenceID == "" {
		return "", fmt.Errorf("creating a silence for %s: Alertmanager gave no silence id", member)
	}
	return created.SilenceID, nil
}

// expire ends a silence now.
func (s *silencer) expire(ctx context.Context, id string) error {
	if err := s.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("expiring silence %s: %w", id, err)
	}
	return nil
}

func (s *silencer) do(ctx context.Context, method, path string, body []byte, into any) error {
	request, err := http.NewRequestWithContext(ctx, method, s.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	response, err := s.client.Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(response.Body, 64<<10))
	if response.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, response.Status, strings.TrimSpace(string(text)))
	}
	if into == nil {
		return nil
	}
	return json.Unmarshal(text, into)
}
