package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// webhookReceiver records Alertmanager's webhook notifications; the path is
// the receiver's name.
type webhookReceiver struct {
	server        *httptest.Server
	mu            sync.Mutex
	notifications []webhookNotification
}

type webhookNotification struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	GroupKey string `json:"groupKey"`
	Alerts   []struct {
		Status   string            `json:"status"`
		Labels   map[string]string `json:"labels"`
		StartsAt string            `json:"startsAt"`
	} `json:"alerts"`
	path string // the webhook URL's path: [/SENDER]/RECEIVER
}

// sentTo reports whether the notification is the named receiver's and came
// by its own URL.
func (n webhookNotification) sentTo(receiver string) bool {
	return n.Receiver == receiver && strings.HasSuffix(n.path, "/"+receiver)
}

// content is what a user sees of a notification; two equal in a row for
// one group are one notification delivered twice.
func (n webhookNotification) content() string {
	var alerts []string
	for _, alert := range n.Alerts {
		alerts = append(alerts, fmt.Sprintf("%v=%s since %s", alert.Labels, alert.Status, alert.StartsAt))
	}
	slices.Sort(alerts)
	return n.Receiver + " " + n.GroupKey + " " + n.Status + ": " + strings.Join(alerts, ", ")
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	receiver := &webhookReceiver{}
	receiver.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var notification webhookNotification
		if err := json.NewDecoder(r.Body).Decode(&notification); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		notification.path = r.URL.Path
		receiver.mu.Lock()
		receiver.notifications = append(receiver.notifications, notification)
		receiver.mu.Unlock()
	}))
	t.Cleanup(receiver.server.Close)
	return receiver
}

// notified reports whether the named receiver got alertname firing for the
// ensemble.
func (w *webhookReceiver) notified(receiver, alertname, ensemble string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, notification := range w.notifications {
		if !notification.sentTo(receiver) {
			continue
		}
		for _, alert := range notification.Alerts {
			if alert.Status == "firing" && alert.Labels["alertname"] == alertname && alert.Labels["ensemble"] == ensemble {
				return true
			}
		}
	}
	return false
}

// pageCount is how many notifications carried an alert, and how many such
// alerts they carried in all.
type pageCount struct{ notifications, alerts int }

// count counts the named receiver's notifications carrying alertname for
// the ensemble with the given status (firing or resolved).
func (w *webhookReceiver) count(receiver, alertname, ensemble, status string) pageCount {
	w.mu.Lock()
	defer w.mu.Unlock()
	var count pageCount
	for _, notification := range w.notifications {
		if !notification.sentTo(receiver) {
			continue
		}
		alerts := 0
		for _, alert := range notification.Alerts {
			if alert.Status == status && alert.Labels["alertname"] == alertname && alert.Labels["ensemble"] == ensemble {
				alerts++
			}
		}
		if alerts > 0 {
			count.notifications++
			count.alerts += alerts
		}
	}
	return count
}

// duplicates lists the notifications that repeat the one before them in
// their group: the same alerts in the same states, delivered again.
func (w *webhookReceiver) duplicates() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	last := map[string]string{}
	var repeated []string
	for _, notification := range w.notifications {
		key := notification.Receiver + " " + notification.GroupKey
		content := notification.content()
		if last[key] == content {
			repeated = append(repeated, notification.path+" "+content)
		}
		last[key] = content
	}
	return repeated
}

func (w *webhookReceiver) dump() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, notification := range w.notifications {
		fmt.Fprintf(&b, "%s (%s):", notification.path, notification.Status)
		for _, alert := range notification.Alerts {
			labels := maps.Clone(alert.Labels)
			delete(labels, "alertname")
			fmt.Fprintf(&b, " %s%v=%s", alert.Labels["alertname"], labels, alert.Status)
		}
		b.WriteString("\n")
	}
	return b.String()
}
