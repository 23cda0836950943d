package trust

import (
	"errors"
	"testing"
)

// TestUntrusted: which builds are a fork's, for each CI and the explicit
// variable; an event that cannot be read counts as a fork's.
func TestUntrusted(t *testing.T) {
	event := func(head, base string) string {
		if head == "" {
			return `{"pull_request": {"head": {"repo": null}, "base": {"repo": {"full_name": "` + base + `"}}}}`
		}
		return `{"pull_request": {"head": {"repo": {"full_name": "` + head + `"}}, "base": {"repo": {"full_name": "` + base + `"}}}}`
	}
	for _, c := range []struct {
		name      string
		env       map[string]string
		event     string
		untrusted bool
	}{
		{"no CI", nil, "", false},
		{"explicit", map[string]string{"CWLBUILD_UNTRUSTED": "1"}, "", true},
		{"explicit garbage", map[string]string{"CWLBUILD_UNTRUSTED": "maybe"}, "", true},
		{"vouched for", map[string]string{"CWLBUILD_UNTRUSTED": "false", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"}, event("evil/pkg", "eoap/pkg"), false},
		{"github push", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push"}, "", false},
		{"github same-repository pull request", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"}, event("eoap/pkg", "eoap/pkg"), false},
		{"github fork", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"}, event("evil/pkg", "eoap/pkg"), true},
		{"github fork, target", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target"}, event("evil/pkg", "eoap/pkg"), true},
		{"github deleted fork", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"}, event("", "eoap/pkg"), true},
		{"github unreadable event", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request"}, "", true},
		{"gitlab fork", map[string]string{"CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "7", "CI_MERGE_REQUEST_PROJECT_ID": "3"}, "", true},
		{"gitlab same project", map[string]string{"CI_MERGE_REQUEST_SOURCE_PROJECT_ID": "3", "CI_MERGE_REQUEST_PROJECT_ID": "3"}, "", false},
	} {
		e := Env{
			Getenv: func(k string) string { return c.env[k] },
			ReadFile: func(string) ([]byte, error) {
				if c.event == "" {
					return nil, errors.New("no event")
				}
				return []byte(c.event), nil
			},
		}
		if c.env != nil && c.env["GITHUB_ACTIONS"] == "true" {
			c.env["GITHUB_EVENT_PATH"] = "/event.json"
		}
		if got := e.Untrusted(); (got != "") != c.untrusted {
			t.Errorf("%s: %q, want untrusted %t", c.name, got, c.untrusted)
		}
	}
}
