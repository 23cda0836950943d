// Package trust tells whether the build running here is of a change the
// repository's owners have not vouched for: a pull request from a fork on
// GitHub Actions, a merge request from a fork on GitLab CI, or one the CI
// configuration names so (CWLBUILD_UNTRUSTED=true). Such a build must not
// share a BuildKit daemon or a registry cache with trusted ones: BuildKit
// reuses a cached RUN step by its command and the layers below it, so an
// untrusted build that wrote a step's result would hand it to the next
// trusted build that runs the same step.
package trust

import (
	"encoding/json"
	"os"
	"strconv"
)

// Env is what Untrusted reads: the environment and the event file.
type Env struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

// OS is the process's environment.
var OS = Env{Getenv: os.Getenv, ReadFile: os.ReadFile}

// Untrusted says why this build is untrusted, "" when it is not.
func (e Env) Untrusted() string {
	if v := e.Getenv("CWLBUILD_UNTRUSTED"); v != "" {
		if b, err := strconv.ParseBool(v); err == nil {
			if b {
				return "CWLBUILD_UNTRUSTED=" + v
			}
			return "" // the CI configuration vouches for it
		}
		return "CWLBUILD_UNTRUSTED=" + strconv.Quote(v) + " (not true or false: taken as true)"
	}
	if e.Getenv("GITHUB_ACTIONS") == "true" {
		switch e.Getenv("GITHUB_EVENT_NAME") {
		case "pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment":
			if fork, ok := e.githubFork(); !ok || fork {
				return "a GitHub pull request from a fork (or one whose event cannot be read)"
			}
		}
	}
	if src := e.Getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"); src != "" && src != e.Getenv("CI_MERGE_REQUEST_PROJECT_ID") {
		return "a GitLab merge request from a fork"
	}
	return ""
}

// githubFork reads the event file: whether the pull request's head is in
// another repository than its base, and whether the file said so.
func (e Env) githubFork() (fork, ok bool) {
	data, err := e.ReadFile(e.Getenv("GITHUB_EVENT_PATH"))
	if err != nil {
		return false, false
	}
	var ev struct {
		PullRequest *struct {
			Head struct {
				Repo *struct {
					FullName string `json:"full_name"`
				} `json:"repo"`
			} `json:"head"`
			Base struct {
				Repo struct {
					FullName string `json:"full_name"`
				} `json:"repo"`
			} `json:"base"`
		} `json:"pull_request"`
	}
	if json.Unmarshal(data, &ev) != nil || ev.PullRequest == nil || ev.PullRequest.Base.Repo.FullName == "" {
		return false, false
	}
	// A deleted fork has no head repository: not the base's.
	head := ev.PullRequest.Head.Repo
	return head == nil || head.FullName != ev.PullRequest.Base.Repo.FullName, true
}
