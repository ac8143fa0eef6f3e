package maintenance

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
)

// GatePrefix is where the gate's routes live.
const GatePrefix = "/api/v1/ensembles/"

// Verdict is the gate's answer about one member.
type Verdict struct {
	Ensemble string    `json:"ensemble"`
	Member   string    `json:"member"`
	ServerID string    `json:"server_id"`
	Time     time.Time `json:"time"`
	// Safe: stopping the member now is safe. Known is false when the
	// exporter cannot tell (a member did not answer in time): never safe.
	Safe            bool   `json:"safe"`
	Known           bool   `json:"known"`
	Impact          string `json:"impact,omitempty"`
	Reason          string `json:"reason"`
	Margin          int    `json:"margin"`
	MarginWhileDown int    `json:"margin_while_down"`
	CaughtUp        bool   `json:"caught_up"`
}

// Gate serves, each from a fresh probe round within timeout:
//
//	GET /api/v1/ensembles/{ensemble}/members/{member}/can-stop
//	  200 safe, 409 not safe, 503 cannot tell, 404 unknown; JSON Verdict
//	GET /api/v1/ensembles/{ensemble}/plan
//	  200 the plan as JSON, 503 when the round is partial
//
// member is the address or the server id. The gate probes only configured
// ensembles, and shares rounds with scrapes.
func Gate(prober Prober, timeout time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+GatePrefix+"{ensemble}/members/{member}/can-stop", func(w http.ResponseWriter, r *http.Request) {
		round, ok := probeFor(w, r, prober, timeout)
		if !ok {
			return
		}
		member := r.PathValue("member")
		i := Find(round, member)
		if i < 0 {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no member " + member + " in ensemble " + round.Ensemble.Name})
			return
		}
		m, verdict := round.Members[i], round.Assessment.Members[i]
		caughtUp := round.CaughtUp(i)
		answer := Verdict{
			Ensemble: round.Ensemble.Name, Member: m.Address, ServerID: m.ServerIDLabel(), Time: round.Time,
			Safe: verdict.Safe && !round.Partial, Known: !round.Partial, Impact: string(verdict.Impact), Reason: verdict.Reason,
			Margin: round.Quorum().Margin, MarginWhileDown: verdict.MarginWhileDown, CaughtUp: caughtUp,
		}
		status := http.StatusOK
		switch {
		case round.Partial:
			status, answer.Reason = http.StatusServiceUnavailable, "cannot tell: some members had not answered by the deadline"
		case !verdict.Safe:
			status = http.StatusConflict
		}
		writeJSON(w, status, answer)
	})
	mux.HandleFunc("GET "+GatePrefix+"{ensemble}/plan", func(w http.ResponseWriter, r *http.Request) {
		round, ok := probeFor(w, r, prober, timeout)
		if !ok {
			return
		}
		status := http.StatusOK
		if round.Partial {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, PlanOf(round))
	})
	return mux
}

// probeFor runs a round of the path's ensemble, or answers the error.
func probeFor(w http.ResponseWriter, r *http.Request, prober Prober, timeout time.Duration) (*ensemble.Round, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	name := r.PathValue("ensemble")
	round, err := prober.Probe(ctx, name)
	switch {
	case errors.Is(err, ensemble.ErrUnknownEnsemble):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "ensemble " + name + " is not configured"})
		return nil, false
	case err != nil:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return nil, false
	}
	return round, true
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	_ = encoder.Encode(value)
}
