package builder

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// A test's inputs are the package's files. cwltool bind-mounts every File
// and Directory of a job into the tool's container, and Calrissian stages
// them likewise: a params entry `{class: File, path: ../dockercfg/config.json}`
// or `location: file:///etc/shadow`, or a CWL default naming one, would hand
// the package's code a file of the machine running the tests; a location
// `http://169.254.169.254/...` would fetch a cloud's credentials. So every
// File and Directory of the params and every one written in the CWL files
// (defaults, InitialWorkDir listings) and every $import and $include there
// resolves inside the package, or is refused with its file, line and key;
// remote locations only with [build.tests] remoteInputs, and never to a
// loopback, link-local or private host.

// scheme is a URI scheme as CWL locations carry one ("file:", "https:").
var scheme = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`)

// remoteSchemes are the locations cwltool and Calrissian fetch.
var remoteSchemes = map[string]bool{"http": true, "https": true, "s3": true, "gs": true}

// checkInput checks one path or location value written relative to base (a
// directory of the project); what names the problem.
func (p *Project) checkInput(value, base string) error {
	if m := scheme.FindStringSubmatch(value); m != nil && len(m[1]) > 1 { // not a Windows drive
		sch := strings.ToLower(m[1])
		u, err := url.Parse(value)
		if err != nil {
			return fmt.Errorf("%q is not a URL: %v", value, err)
		}
		switch {
		case sch == "file":
			if u.Host != "" && u.Host != "localhost" {
				return fmt.Errorf("%q: a file on host %s", value, u.Host)
			}
			return p.insideProject(value, u.Path)
		case remoteSchemes[sch]:
			if !p.Build.Tests.RemoteInputs {
				return fmt.Errorf("%q: a remote input (allow http, https, s3 and gs with [build.tests] remoteInputs = true)", value)
			}
			return checkRemoteHost(value, u)
		default:
			return fmt.Errorf("%q: scheme %q is not an input a test may read (a path in the package, or with [build.tests] remoteInputs, http, https, s3 or gs)", value, sch)
		}
	}
	path := value
	if !filepath.IsAbs(path) {
		path = filepath.Join(base, path)
	}
	return p.insideProject(value, path)
}

// insideProject refuses the absolute path abs (written as value) unless it
// is in the project directory, lexically and with symlinks resolved.
func (p *Project) insideProject(value, abs string) error {
	if p.opts.AllowOutsidePaths {
		return nil
	}
	abs = filepath.Clean(abs)
	if !within(filepath.Clean(p.Dir), abs) && !within(p.realDir(), abs) {
		return fmt.Errorf("%q: outside the project directory (allow with --allow-outside-paths)", value)
	}
	if real, err := p.evalSymlinks(abs); err == nil && !within(p.realDir(), real) {
		return fmt.Errorf("%q: a symlink to %s, outside the project directory (allow with --allow-outside-paths)", value, real)
	}
	return nil
}

// checkRemoteHost refuses a location whose host is this machine, its link
// (a cloud's metadata service at 169.254.169.254, fd00:ec2::254) or a
// private network: those answer the runner, not the world. s3 and gs name
// a bucket, not a host.
func checkRemoteHost(value string, u *url.URL) error {
	if u.Scheme == "s3" || u.Scheme == "gs" {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return fmt.Errorf("%q: no host", value)
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "metadata.google.internal" || host == "metadata" {
		return fmt.Errorf("%q: host %s is this machine or its metadata service", value, host)
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsPrivate() || ip.IsUnspecified() ||
			ip.Equal(net.ParseIP("fd00:ec2::254")) {
			return fmt.Errorf("%q: host %s is a loopback, link-local or private address", value, host)
		}
	}
	return nil
}

// checkTestInputs checks every File and Directory of a test's params.
func (p *Project) checkTestInputs(tp *TestPlan) []error {
	var errs []error
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			class, _ := x["class"].(string)
			for k, val := range x {
				if s, ok := val.(string); ok && (class == "File" || class == "Directory") && (k == "path" || k == "location") {
					if err := p.checkInput(s, p.Dir); err != nil {
						errs = append(errs, p.Errorf(key+"."+k, "%s.%s %v", key, k, err))
					}
				}
				walk(val, key+"."+k)
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s.%d", key, i))
			}
		}
	}
	walk(tp.Params, tp.Key+".params")
	return errs
}

// maxCWLSize bounds the CWL file read for its inputs.
const maxCWLSize = 64 << 20

// checkCWLInputs checks the inputs a CWL file names (project-relative
// file): every File and Directory object in it (defaults, listings) and
// every $import and $include, resolved against the file's directory. A file
// that does not parse is left to the checks that read it as CWL.
func (p *Project) checkCWLInputs(file string) []error {
	abs := p.Abs(file)
	st, err := os.Stat(abs)
	if err != nil || st.Size() > maxCWLSize {
		return nil
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	base := filepath.Dir(abs)
	var errs []error
	walkInputs(&doc, "", func(v *yaml.Node, _, what string) {
		if err := p.checkInput(v.Value, base); err != nil {
			errs = append(errs, &Error{File: file, Line: v.Line, Msg: fmt.Sprintf("%s %v: a test would give it to the tool", what, err)})
		}
	})
	return errs
}

// walkInputs visits every input a YAML document (a CWL file, a job file)
// names, as cwltool resolves them: each scalar path or location of a File
// or Directory, and each $import and $include. key is the value's dotted
// path from where the walk started, what says what it is ("File
// location", "$import").
func walkInputs(n *yaml.Node, key string, visit func(v *yaml.Node, key, what string)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkInputs(c, key, visit)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkInputs(c, fmt.Sprintf("%s.%d", key, i), visit)
		}
	case yaml.MappingNode:
		class := ""
		if c := mapValue(n, "class"); c != nil {
			class = c.Value
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			sub := strings.TrimPrefix(key+"."+k, ".")
			if v.Kind == yaml.ScalarNode {
				switch {
				case k == "$import" || k == "$include":
					visit(v, sub, k)
				case (class == "File" || class == "Directory") && (k == "location" || k == "path"):
					visit(v, sub, class+" "+k)
				}
			}
			walkInputs(v, sub, visit)
		}
	}
}
