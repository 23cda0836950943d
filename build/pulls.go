package build

import (
	"bufio"
	"bytes"
	"path"
	"regexp"
	"strings"

	"github.com/eoap/cwlbuild/internal/imageref"
)

// The daemonless engines take one --tls-verify for the whole build: its
// pulls (bases, COPY --from images) as well as nothing else. Docker reaches
// loopback registries over plain HTTP; buildah and podman only those
// registries.conf marks insecure. So a build whose every pull is from a
// loopback or listed insecure registry gets --tls-verify=false, as its push
// does; a build that also pulls from a registry with TLS keeps verifying
// (one flag cannot say both), and says which registry it could not reach.

// pulledImages lists the images a Dockerfile pulls: each FROM that is not
// an earlier stage or scratch, and each COPY --from= or RUN --mount=from=
// image, with the ARGs declared before the first FROM (their defaults,
// overridden by args) substituted. It reads instructions, line
// continuations and comments; it needs no more of the syntax.
func pulledImages(dockerfile []byte, args map[string]string) []string {
	vars := map[string]string{}
	stages := map[string]bool{}
	var out []string
	add := func(ref string) {
		ref = expandArgs(ref, vars)
		if ref == "" || strings.EqualFold(ref, "scratch") || stages[strings.ToLower(ref)] || strings.ContainsAny(ref, "$ \t") {
			return
		}
		out = append(out, ref)
	}
	seenFrom := false
	for _, line := range instructions(dockerfile) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			if seenFrom {
				continue
			}
			for _, decl := range fields[1:] {
				name, def, _ := strings.Cut(decl, "=")
				if v, ok := args[name]; ok {
					def = v
				}
				vars[name] = strings.Trim(def, `"'`)
			}
		case "FROM":
			seenFrom = true
			rest := withoutFlags(fields[1:])
			if len(rest) == 0 {
				continue
			}
			add(rest[0])
			if len(rest) == 3 && strings.EqualFold(rest[1], "AS") {
				stages[strings.ToLower(rest[2])] = true
			}
		case "COPY", "ADD", "RUN":
			for _, f := range fields[1:] {
				if !strings.HasPrefix(f, "--") {
					break
				}
				if from, ok := strings.CutPrefix(f, "--from="); ok {
					add(from)
				}
				if mount, ok := strings.CutPrefix(f, "--mount="); ok {
					for _, kv := range strings.Split(mount, ",") {
						if from, ok := strings.CutPrefix(kv, "from="); ok {
							add(from)
						}
					}
				}
			}
		}
	}
	return out
}

// instructions joins continued lines and drops comments and blank lines.
func instructions(dockerfile []byte) []string {
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(dockerfile))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

func withoutFlags(fields []string) []string {
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		fields = fields[1:]
	}
	return fields
}

var argRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expandArgs substitutes $NAME, ${NAME} and ${NAME:-default}; a name with
// no value and no default is left as it is (and the image is skipped).
func expandArgs(s string, vars map[string]string) string {
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := argRef.FindStringSubmatch(m)
		if v, ok := vars[sub[1]+sub[3]]; ok && v != "" {
			return v
		}
		if def, ok := strings.CutPrefix(strings.TrimPrefix(sub[2], ":"), "-"); ok {
			return def
		}
		return m
	})
}

// pullsOnlyInsecure reports whether every image the build's Dockerfile
// pulls is on a loopback or listed insecure registry (and there is one):
// then the build's pulls, like its push, go without TLS. A Dockerfile that
// cannot be read (a symlink, a missing file: the builder's to report)
// keeps TLS.
func (b *Spec) pullsOnlyInsecure() bool {
	data, err := readDockerfile(path.Join(b.Context, b.Dockerfile)) // as -f names it
	if err != nil {
		return false
	}
	images := pulledImages(data, b.BuildArgs)
	for _, img := range images {
		if !imageref.IsInsecure(img, b.Insecure) {
			return false
		}
	}
	return len(images) > 0
}
