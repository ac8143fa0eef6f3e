package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// schemaCheck walks the YAML tree against the Config struct. yaml.v3's
// KnownFields stops short of what users need: it names no ensemble or
// member, and the decode error it returns used to hide every validation
// problem behind it. Walking the tree reports each unknown key with its
// place, and remembers which ensemble and member each line belongs to, so
// that decoding errors (which only carry a line) can say so too.
type schemaCheck struct {
	// places maps a line to the innermost "ensemble ... member ..." it
	// belongs to.
	places map[int]string
}

var (
	ensembleType = reflect.TypeOf(Ensemble{})
	memberType   = reflect.TypeOf(Member{})
)

func checkSchema(node *yaml.Node, found *problems) *schemaCheck {
	check := &schemaCheck{places: map[int]string{}}
	check.walk(node, reflect.TypeOf(Config{}), "", 0, found)
	return check
}

// walk checks node against type t. index is node's 1-based position in its
// sequence (0 outside one), used to name unnamed ensembles and members.
func (s *schemaCheck) walk(node *yaml.Node, t reflect.Type, place string, index int, found *problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case ensembleType:
		place = ensemblePlace(node, index)
	case memberType:
		place = place + " " + memberPlace(node, index)
	}
	s.places[node.Line] = place
	switch {
	// An alias repeats its anchor, which is checked where it is written;
	// following aliases would also let a small file expand without bound.
	case node.Kind == yaml.AliasNode:
	case node.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i], node.Content[i+1]
			s.places[key.Line] = place
			if key.Tag == "!!merge" {
				continue
			}
			field, known := fields[key.Value]
			if !known {
				found.add(key.Line, "%s", withPlace(place, unknownKey(key.Value, fields)))
				continue
			}
			s.walk(value, field, place, 0, found)
		}
	case node.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(node.Content); i += 2 {
			s.walk(node.Content[i+1], t.Elem(), place, 0, found)
		}
	case node.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, item := range node.Content {
			s.walk(item, t.Elem(), place, i+1, found)
		}
	}
}

// addYAML adds one of yaml.v3's "line N: ..." decoding errors, naming the
// ensemble and member of that line.
func (s *schemaCheck) addYAML(found *problems, message string) {
	match := yamlLine.FindStringSubmatch(message)
	if match == nil {
		found.add(0, "%s", message)
		return
	}
	line, _ := strconv.Atoi(match[1])
	found.add(line, "%s", withPlace(s.places[line], match[2]))
}

func withPlace(place, message string) string {
	if place = strings.TrimSpace(place); place != "" {
		return place + ": " + message
	}
	return message
}

func ensemblePlace(node *yaml.Node, index int) string {
	if name := mappingValue(node, "name"); name != nil && name.Kind == yaml.ScalarNode && name.Value != "" {
		return fmt.Sprintf("ensemble %q", name.Value)
	}
	return fmt.Sprintf("ensemble #%d", index)
}

func memberPlace(node *yaml.Node, index int) string {
	if address := mappingValue(node, "address"); address != nil && address.Kind == yaml.ScalarNode && address.Value != "" {
		return fmt.Sprintf("member %q", address.Value)
	}
	return fmt.Sprintf("member #%d", index)
}

// yamlFields returns the YAML keys of struct type t and their types, the way
// yaml.v3 names them (the tag, else the lower-cased field name).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		field := t.Field(i)
		if !field.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(field.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(field.Name)
		}
		fields[name] = field.Type
	}
	return fields
}

// unknownKey says a key is not in the schema, suggesting the nearest known
// one for a typo.
func unknownKey(key string, fields map[string]reflect.Type) string {
	best, bestDistance := "", 3 // suggest only within two edits
	for name := range fields {
		if distance := editDistance(key, name); distance < bestDistance || (distance == bestDistance && name < best) {
			best, bestDistance = name, distance
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", key, best)
	}
	return fmt.Sprintf("unknown key %q", key)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
		}
		previous, current = current, previous
	}
	return previous[len(b)]
}
