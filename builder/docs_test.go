package builder

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestDocsDefaultTable checks docs/project-toml.md's key table against the
// model: every setting of [project], [build] and [release] has a row, and
// each default applyDefaults sets is what the row's default column says.
func TestDocsDefaultTable(t *testing.T) {
	data, err := os.ReadFile("../docs/project-toml.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := docRows(string(data))
	p := &Project{}
	p.Build.Engine = EngineLocal
	p.applyDefaults()
	// Defaults the table names in words instead of the value.
	inWords := map[string]string{
		"build.engine":       "required: this test sets it",
		"build.kaniko.image": "the pinned executor image, a long reference: the row says where it is (ci.md)",
	}
	for _, root := range []struct {
		key string
		v   reflect.Value
	}{{"project", reflect.ValueOf(&p.Project).Elem()}, {"build", reflect.ValueOf(&p.Build).Elem()}, {"release", reflect.ValueOf(&p.Release).Elem()}} {
		eachSetting(root.v, root.key, func(key string, f reflect.Value) {
			def, ok := rows[key]
			if !ok {
				t.Errorf("docs/project-toml.md has no row for %s", key)
				return
			}
			if _, ok := inWords[key]; ok {
				return
			}
			for _, v := range literals(f) {
				if !strings.Contains(def, "`"+v+"`") {
					t.Errorf("docs/project-toml.md: the default of %s is `%s`; the row says %q", key, v, def)
				}
			}
		})
	}
}

// docRows maps each key of the table (build.local.runtime) to its row's
// default column. A row's first column is "[TABLE] a, b" (a key each),
// "[TABLE]" (the table itself is the key) or "[a.b/c] x" (tables a.b and
// a.c).
func docRows(doc string) map[string]string {
	row := regexp.MustCompile("(?m)^\\| `\\[([^\\]]+)\\]([^`]*)` \\|([^|]*)\\|")
	out := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(doc, -1) {
		tables := []string{m[1]}
		if head, alts, ok := strings.Cut(m[1], "/"); ok {
			dot := strings.LastIndex(head, ".")
			tables = []string{head, head[:dot+1] + alts}
		}
		for _, table := range tables {
			names := strings.Split(m[2], ",")
			for _, n := range names {
				key := table
				if n = strings.TrimSpace(n); n != "" {
					key += "." + n
				}
				out[key] = strings.TrimSpace(m[3])
			}
		}
	}
	return out
}

// literals are the values of f as the table writes them, nothing for a
// zero value (no default).
func literals(f reflect.Value) []string {
	switch f.Kind() {
	case reflect.Pointer:
		if f.IsNil() {
			return nil
		}
		return literals(f.Elem())
	case reflect.Slice:
		var out []string
		for i := range f.Len() {
			out = append(out, literals(f.Index(i))...)
		}
		return out
	case reflect.Map, reflect.Struct:
		return nil
	}
	if f.IsZero() { // false is "off", written in words
		return nil
	}
	return []string{fmt.Sprint(f.Interface())}
}
