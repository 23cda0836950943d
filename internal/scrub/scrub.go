// Package scrub is the one credential scrubber: every URL that comes from
// git metadata or from the package (a remote, [project] repository) passes
// URL before it reaches an image label, an artifact annotation, a log line
// or a file. CI checkouts carry tokens in their remotes
// (https://ci-bot:glpat-…@gitlab.example/…, ?private_token=…), and a
// package under review may plant any string there.
package scrub

import (
	"strings"
)

// URL returns the public form of a repository URL: no user, password or
// token (userinfo), no query and no fragment, in every form git writes a
// remote: scheme://[userinfo@]host[:port]/path (https, http, ssh, git,
// file), scp-like [user@]host:path, and local paths. A value it cannot read
// as one of those, or that holds anything but printable ASCII or what no
// URL holds (quotes, braces, backslashes), is "":
// better no source than a leaked one. It does not rely on url.Parse, which
// fails on a password holding '#' or a bad '%' escape.
func URL(raw string) string {
	raw = strings.TrimSpace(raw)
	for _, r := range raw {
		if r <= ' ' || r > '~' {
			return ""
		}
	}
	if strings.ContainsAny(raw, "\"\\<>`{}|^") { // never in a URL
		return ""
	}
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		if !validScheme(scheme) {
			return ""
		}
		// The authority ends at the first '/' after its last '@': a
		// password may hold '#', '?', ';' or ':'.
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			slash = len(rest)
		}
		host, path := rest[:slash], rest[slash:]
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		} else if i := strings.IndexAny(host, "?#"); i >= 0 {
			host, path = host[:i], ""
		}
		if i := strings.IndexAny(path, "?#"); i >= 0 {
			path = path[:i]
		}
		// An '@' left in the path means the userinfo held a '/': where it
		// ends cannot be told, so nothing is kept.
		if strings.Contains(path, "@") || !validHost(host) && !(scheme == "file" && host == "") {
			return ""
		}
		return strings.ToLower(scheme) + "://" + host + path
	}
	if strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, ".") {
		if strings.ContainsAny(raw, "@?#") {
			return ""
		}
		return raw // a local path: nothing to hide, nothing to drop
	}
	// scp-like: [user@]host:path, recognised by git when a ':' comes
	// before any '/'.
	colon := strings.IndexByte(raw, ':')
	if colon < 0 || strings.Contains(raw[:colon], "/") {
		return ""
	}
	at := strings.LastIndexByte(raw[:strings.IndexByte(raw+"/", '/')], '@')
	rest := raw[at+1:]
	host, path, _ := strings.Cut(rest, ":")
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if strings.Contains(path, "@") || !validHost(host) || path == "" {
		return ""
	}
	return host + ":" + path
}

func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// validHost: a DNS name or IP, optionally bracketed IPv6, and a port of
// digits.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") && !strings.HasPrefix(h, "[") {
		if port := h[i+1:]; port == "" || strings.Trim(port, "0123456789") != "" || strings.Contains(h[:i], ":") {
			return false
		}
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(".-_:[]", r):
		default:
			return false
		}
	}
	return true
}
