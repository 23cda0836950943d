package skaffold

import (
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// scalarSeeds are strings a careless YAML writer gets wrong: words and
// numbers YAML resolves to other types, indicators, comment and key
// markers, control and line-break characters, non-ASCII text.
var scalarSeeds = []string{
	"", "true", "False", "YES", "y", "n", "on", "Off", "null", "~", "<<", "=",
	"1", "-1", "+1", "+.0", "-.0", "+.5e3", ".", "+", "+.", "0x1F", "0o17", "0b101", "017", "1_000", "1e3", ".5", "3.11", ".inf", "-.Inf", ".NaN",
	"1:20", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "0000-1-1t0:0:0,0+00:00", "1h", "500m", "4Gi",
	"a: b", "a:", "a #b", "a#b", "#x", "-x", "- x", "-", "?x", ":x", "@x", "%x", "!x", "&x", "*x",
	"|", ">", "'", "\"", "`x`", "[x]", "{x}", ",", " a", "a ", "\ta", "a\tb",
	"two words", "ghcr.io=harbor/x;index.docker.io=mirror.gcr.io", "127.0.0.1:5000/eoap/crop",
	"cwlbuild plugin --tool 'it''s' -f '../my dir/project.toml'",
	"line\nbreak", "a\r\nb", "\x00", "\x7f", "\u0085", "\u00a0", "\u2028", "\u2029", "\ufeffa", "\ufffe", "é", "日本", "😀",
	`back\slash`, `"quoted"`, strings.Repeat("k", 1100),
}

// readBack writes s as a mapping key, a mapping value and a sequence item,
// and checks that yaml.v3 (the parser Skaffold uses) reads back s as a
// string every time.
func readBack(t *testing.T, s string) {
	t.Helper()
	w := yamlWriter{}
	w.document(mapping{
		{"value", s},
		{"list", sequence{s, mapping{{"inner", s}}}},
		{"keys", mapping{{s, "v"}}},
	})
	if w.err != nil {
		t.Fatalf("%q: %v", s, w.err)
	}
	var doc struct {
		Value any
		List  []any
		Keys  map[string]any
	}
	if err := yaml.Unmarshal(w.buf, &doc); err != nil {
		t.Fatalf("%q: written YAML does not parse: %v\n%s", s, err, w.buf)
	}
	if v, ok := doc.Value.(string); !ok || v != s {
		t.Errorf("%q: value read back as %#v\n%s", s, doc.Value, w.buf)
	}
	if len(doc.List) != 2 {
		t.Fatalf("%q: list read back as %#v\n%s", s, doc.List, w.buf)
	}
	if v, ok := doc.List[0].(string); !ok || v != s {
		t.Errorf("%q: sequence item read back as %#v\n%s", s, doc.List[0], w.buf)
	}
	if m, ok := doc.List[1].(map[string]any); !ok || m["inner"] != s {
		t.Errorf("%q: mapping in a sequence read back as %#v\n%s", s, doc.List[1], w.buf)
	}
	var keys yaml.Node
	if err := yaml.Unmarshal(w.buf, &keys); err != nil {
		t.Fatal(err)
	}
	// Keys are checked on the node tree: decoding into map[string]any would
	// turn a key read as the integer 1 into "1" and hide the mistake.
	k := keys.Content[0].Content[5].Content[0]
	if k.Value != s || k.ShortTag() != "!!str" {
		t.Errorf("%q: key read back as %s %q\n%s", s, k.ShortTag(), k.Value, w.buf)
	}
}

func TestScalarsReadBack(t *testing.T) {
	for _, s := range scalarSeeds {
		readBack(t, s)
	}
}

// TestPlainWhereYAMLv3IsPlain keeps the common values readable: the plain
// forms Skaffold's own encoder writes stay plain.
func TestPlainWhereYAMLv3IsPlain(t *testing.T) {
	for _, s := range []string{"two words", "127.0.0.1:5000/eoap/crop", "1h", "4Gi", "a#b", ".dockerconfigjson", "/kaniko/.docker",
		"cwlbuild plugin --backend buildah --tool crop -f ../../project.toml", "index.docker.io=127.0.0.1:5000"} {
		if !plainSafe(s) {
			t.Errorf("%q is quoted", s)
		}
	}
}

func TestNotUTF8IsAnError(t *testing.T) {
	w := yamlWriter{}
	w.document(mapping{{"ok", "fine"}, {"bad", "a\xffb"}})
	if w.err == nil || !strings.Contains(w.err.Error(), "not UTF-8") {
		t.Fatalf("err = %v", w.err)
	}
}

func FuzzScalar(f *testing.F) {
	for _, s := range scalarSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		readBack(t, s)
	})
}
