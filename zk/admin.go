package zk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// AdminClient calls ZooKeeper's AdminServer (Jetty, admin.serverPort), the
// fallback where the four-letter words are not whitelisted. Its commands
// answer JSON under <base>/<command>, base being e.g.
// http://zk1:8080/commands.
type AdminClient struct {
	// HTTPClient defaults to a client that follows no redirect: a member's
	// AdminServer answers its commands itself, and must not send the
	// exporter to another address. The context bounds every call.
	HTTPClient *http.Client
	// MaxAnswerBytes caps the answer; zero means DefaultMaxAnswerBytes.
	MaxAnswerBytes int64
}

// Command GETs one AdminServer command and returns its JSON. An answer whose
// "error" field is set comes back as an error: ErrNotServing for a member
// without quorum.
func (c *AdminClient) Command(ctx context.Context, base, command string) ([]byte, error) {
	word := "admin " + command
	fail := func(reason string, err error) ([]byte, error) {
		return nil, &Error{Word: word, Address: base, Reason: reason, Err: err}
	}
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/"+command, nil)
	if err != nil {
		return fail(ReasonOther, err)
	}
	client := c.HTTPClient
	if client == nil {
		client = noRedirectClient
	}
	response, err := client.Do(request)
	if err != nil {
		return fail(classify(ctx, err), err)
	}
	defer response.Body.Close()
	limit := c.MaxAnswerBytes
	if limit <= 0 {
		limit = DefaultMaxAnswerBytes
	}
	var body bytes.Buffer
	n, err := body.ReadFrom(io.LimitReader(response.Body, limit+1))
	switch {
	case err != nil:
		return fail(classify(ctx, err), err)
	case n > limit:
		return fail(ReasonAnswerTooLarge, fmt.Errorf("answer exceeds %d bytes", limit))
	}
	// 3.8 answers a member without quorum with {"error": "...not currently
	// serving..."} for most commands, and monitor with a 500 whose stack
	// trace says its "zkServer" is null.
	if bytes.Contains(body.Bytes(), []byte(notServingAnswer)) ||
		response.StatusCode == http.StatusInternalServerError && bytes.Contains(body.Bytes(), []byte("zkServer&quot; is null")) {
		return fail(ReasonNotServing, ErrNotServing)
	}
	if response.StatusCode != http.StatusOK {
		return fail(ReasonHTTP, fmt.Errorf("HTTP %s", response.Status))
	}
	var envelope struct {
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(body.Bytes(), &envelope); err != nil {
		return fail(ReasonUnparsable, &ParseError{Word: word, Msg: err.Error()})
	}
	if envelope.Error != nil {
		return fail(ReasonHTTP, fmt.Errorf("AdminServer: %s", *envelope.Error))
	}
	return body.Bytes(), nil
}

// noRedirectClient hands a redirect back as the answer (an HTTP error).
var noRedirectClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// ParseAdminMonitor reads the AdminServer's monitor command: mntr's keys
// without the zk_ prefix. Like ParseMntr it keeps MntrKeys and the string
// keys only; a value of the wrong type is left out, as if not sent.
func ParseAdminMonitor(answer []byte) (*Mntr, error) {
	decoded := reflect.New(monitorType)
	err := json.Unmarshal(answer, decoded.Interface())
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &typeErr) {
		return nil, &ParseError{Word: "admin monitor", Msg: err.Error()}
	}
	fields := decoded.Elem()
	text := func(i int) string {
		if field := fields.Field(i); !field.IsNil() {
			return field.Elem().String()
		}
		return ""
	}
	mntr := &Mntr{FullVersion: text(0), PeerState: text(2)}
	state := text(1)
	mntr.ServerState = ParseMode(state)
	for i, key := range MntrKeys {
		if field := fields.Field(monitorStrings + i); !field.IsNil() {
			mntr.SetNumber(key, field.Elem().Float())
		}
	}
	mntr.Version = ReleaseVersion(mntr.FullVersion)
	if mntr.Version == "" || state == "" {
		return nil, &ParseError{Word: "admin monitor", Msg: "no version or server_state"}
	}
	return mntr, nil
}

// monitorStrings is the number of string fields leading monitorType.
const monitorStrings = 3

// monitorType is a struct of the monitor keys ParseAdminMonitor keeps:
// version, server_state and peer_state as *string, then MntrKeys (without
// zk_) as *float64. Unmarshalling into it skips the other 500 keys of a
// leader's answer instead of building a map of them.
var monitorType = func() reflect.Type {
	stringType, numberType := reflect.TypeFor[*string](), reflect.TypeFor[*float64]()
	var fields []reflect.StructField
	add := func(key string, fieldType reflect.Type) {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("F%d", len(fields)), Type: fieldType,
			Tag: reflect.StructTag(fmt.Sprintf(`json:%q`, strings.TrimPrefix(key, "zk_"))),
		})
	}
	for _, key := range []string{"version", "server_state", "peer_state"} {
		add(key, stringType)
	}
	for _, key := range MntrKeys {
		add(key, numberType)
	}
	return reflect.StructOf(fields)
}()

// ParseAdminLeader reads the leader command: whether this member leads. It
// is how a leader started with leaderServes=no, which answers srvr with
// "not serving", is told apart from a member without quorum.
func ParseAdminLeader(answer []byte) (bool, error) {
	var leader struct {
		IsLeader *bool `json:"is_leader"`
	}
	if err := json.Unmarshal(answer, &leader); err != nil || leader.IsLeader == nil {
		return false, &ParseError{Word: "admin leader", Msg: "no is_leader"}
	}
	return *leader.IsLeader, nil
}

// ParseAdminVotingView reads the voting_view command (ZooKeeper 3.6+): the
// voters of the membership in force, each with its quorum, election and
// client addresses. Observers are not in it. The servers come sorted by id.
func ParseAdminVotingView(answer []byte) ([]Server, error) {
	var view struct {
		CurrentConfig map[string]struct {
			ServerAddresses   []string `json:"server_addresses"`
			ElectionAddresses []string `json:"election_addresses"`
			ClientAddress     string   `json:"client_address"`
			LearnerType       string   `json:"learner_type"`
		} `json:"current_config"`
	}
	fail := func(msg string) ([]Server, error) { return nil, &ParseError{Word: "admin voting_view", Msg: msg} }
	if err := json.Unmarshal(answer, &view); err != nil {
		return fail(err.Error())
	}
	if len(view.CurrentConfig) == 0 {
		return fail("no current_config")
	}
	servers := make([]Server, 0, len(view.CurrentConfig))
	for idText, s := range view.CurrentConfig {
		id, err := strconv.Atoi(idText)
		if err != nil || id <= 0 || len(s.ServerAddresses) == 0 || len(s.ElectionAddresses) == 0 {
			return fail(fmt.Sprintf("server %q: no id or address", idText))
		}
		role := s.LearnerType
		if role == "" {
			role = RoleParticipant
		}
		spec := s.ServerAddresses[0] + ":" + portOf(s.ElectionAddresses[0]) + ":" + role
		if s.ClientAddress != "" {
			spec += ";" + s.ClientAddress
		}
		server, err := ParseServerLine(id, spec)
		if err != nil {
			return fail(err.Error())
		}
		servers = append(servers, server)
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
	return servers, nil
}

// portOf is the port of host:port, or the whole text when it has none.
func portOf(address string) string {
	if _, port, err := net.SplitHostPort(address); err == nil {
		return port
	}
	return address
}
