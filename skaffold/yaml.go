package skaffold

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The config is written by the small block-style YAML writer below rather
// than by encoding Skaffold's schema structs with yaml.v3. Those structs
// drag the Kubernetes API types into the binary (about 10 ms of package
// initialisation on every cwlbuild run), and their custom marshalers
// re-encode each kaniko artifact three times; together that made generate
// cost ~100 ms at 100 tools. The tests prove the output is exactly what
// Skaffold's own types encode to (TestSkaffoldSchemaRoundTrip).

// A mapping is a YAML mapping whose keys keep the order they were added in:
// the order Skaffold's encoder writes them in.
type mapping []pair

type pair struct {
	key   string
	value any // string, literal, mapping or sequence
}

// A sequence is a block sequence of strings or mappings.
type sequence []any

// A literal is written as is: numbers, booleans.
type literal string

// set adds key whatever its value; an empty mapping is written as {}.
func (m *mapping) set(key string, v any) { *m = append(*m, pair{key, v}) }

// str adds key unless v is empty, like a Skaffold field tagged omitempty.
func (m *mapping) str(key, v string) {
	if v != "" {
		m.set(key, v)
	}
}

// sub adds a nested mapping unless it is empty.
func (m *mapping) sub(key string, v mapping) {
	if len(v) > 0 {
		m.set(key, v)
	}
}

// strs adds a sequence of strings unless it is empty.
func (m *mapping) strs(key string, v []string) {
	if len(v) == 0 {
		return
	}
	seq := make(sequence, len(v))
	for i, s := range v {
		seq[i] = s
	}
	m.set(key, seq)
}

// flag adds key: true when v is set, as omitempty booleans are written.
func (m *mapping) flag(key string, v bool) {
	if v {
		m.set(key, literal("true"))
	}
}

// boolPtr adds a boolean that is written whenever it is set, even false.
func (m *mapping) boolPtr(key string, v *bool) {
	if v != nil {
		m.set(key, literal(strconv.FormatBool(*v)))
	}
}

// dict adds a string map with its keys sorted, unless it is empty.
func (m *mapping) dict(key string, kv map[string]string) {
	if len(kv) == 0 {
		return
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sub := make(mapping, 0, len(keys))
	for _, k := range keys {
		sub.set(k, kv[k])
	}
	m.set(key, sub)
}

// yamlWriter appends YAML text to buf. The first error (a string that is not
// UTF-8 and so cannot be written) sticks; later writes are no-ops.
type yamlWriter struct {
	buf []byte
	err error
}

// document writes a top-level mapping.
func (w *yamlWriter) document(m mapping) { w.mapping(m, 0, false) }

// maxImplicitKey is the longest key written in the short "key: value" form:
// escaping at most quadruples it, which stays under YAML's 1024.
const maxImplicitKey = 250

// mapping writes m's pairs at indent. With inline set, the first key follows
// a "- " the caller has already written.
func (w *yamlWriter) mapping(m mapping, indent int, inline bool) {
	for i, p := range m {
		if !inline || i > 0 {
			w.indent(indent)
		}
		if len(p.key) > maxImplicitKey {
			// YAML caps an implicit key at 1024 characters; a longer one
			// needs the explicit "? key" form.
			w.buf = append(w.buf, "? "...)
			w.scalar(p.key)
			w.buf = append(w.buf, '\n')
			w.indent(indent)
		} else {
			w.scalar(p.key)
		}
		w.buf = append(w.buf, ':')
		w.value(p.value, indent)
	}
}

// value writes what follows "key:" in a mapping at indent.
func (w *yamlWriter) value(v any, indent int) {
	switch v := v.(type) {
	case string:
		w.buf = append(w.buf, ' ')
		w.scalar(v)
		w.buf = append(w.buf, '\n')
	case literal:
		w.buf = append(w.buf, ' ')
		w.buf = append(w.buf, v...)
		w.buf = append(w.buf, '\n')
	case mapping:
		if len(v) == 0 {
			w.buf = append(w.buf, " {}\n"...)
			return
		}
		w.buf = append(w.buf, '\n')
		w.mapping(v, indent+2, false)
	case sequence:
		if len(v) == 0 {
			w.buf = append(w.buf, " []\n"...)
			return
		}
		w.buf = append(w.buf, '\n')
		for _, item := range v {
			w.indent(indent + 2)
			w.buf = append(w.buf, "- "...)
			switch item := item.(type) {
			case string:
				w.scalar(item)
				w.buf = append(w.buf, '\n')
			case mapping:
				if len(item) == 0 {
					w.buf = append(w.buf, "{}\n"...)
					continue
				}
				w.mapping(item, indent+4, true)
			default:
				panic(fmt.Sprintf("skaffold: sequence item of type %T", item))
			}
		}
	default:
		panic(fmt.Sprintf("skaffold: mapping value of type %T", v))
	}
}

func (w *yamlWriter) indent(n int) {
	for ; n > 0; n-- {
		w.buf = append(w.buf, ' ')
	}
}

// scalar writes s plain when YAML reads that back as the same string, and
// double-quoted otherwise.
func (w *yamlWriter) scalar(s string) {
	if !utf8.ValidString(s) {
		if w.err == nil {
			w.err = fmt.Errorf("%q is not UTF-8 text and cannot be written to YAML", s)
		}
		return
	}
	if plainSafe(s) {
		w.buf = append(w.buf, s...)
		return
	}
	w.buf = appendDoubleQuoted(w.buf, s)
}

// plainSafe reports whether s can be written as a plain scalar: printable
// ASCII only, no indicator that starts or ends a token, and nothing a YAML
// 1.1 or 1.2 reader resolves to a null, boolean, number or timestamp. It
// errs towards quoting; quoting is always correct.
func plainSafe(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || s[len(s)-1] == ':' {
		return false
	}
	if strings.IndexByte("-?:,[]{}#&*!|>'\"%@`=~<", s[0]) >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		if c == ':' && s[i+1] == ' ' { // i+1 exists: s does not end with ':'
			return false
		}
		if c == '#' && s[i-1] == ' ' { // i > 0: s does not start with '#'
			return false
		}
	}
	return !resolvesToNonString(s)
}

// resolvesToNonString reports whether a YAML reader could take plain s for
// something other than a string.
func resolvesToNonString(s string) bool {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "true", "false", "on", "off", "null",
		".inf", "+.inf", "-.inf", ".nan":
		return true
	}
	if c := s[0]; c != '+' && c != '.' && (c < '0' || c > '9') {
		return false // not a number: those start with a digit, a sign or a dot
	}
	// Numbers in every base and with YAML 1.1 underscores (+.5, 0x1F,
	// 1_000), sexagesimal integers (1:20) and timestamps (2001-12-14,
	// 2001-12-14t21:59:43,10+01:00) use only
	// these characters. "-" needs no case: it is an indicator, always quoted.
	digits := false
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEFxXoO_+-.,:TtZz ", rune(s[i])) {
			return false
		}
		digits = digits || s[i] >= '0' && s[i] <= '9'
	}
	return digits // "." and "+" are strings
}

// appendDoubleQuoted writes s as a YAML double-quoted scalar, escaping what
// YAML does not allow raw there or would read as a line break.
func appendDoubleQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			b = fmt.Appendf(b, `\x%02x`, r)
		case r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff:
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
