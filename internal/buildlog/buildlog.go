// Package buildlog reads the output of a failed `skaffold build` and says,
// for each image, why it failed, in words a package author acts on: which
// login a registry refused, that a registry failed or could not be
// reached, that Skaffold's timeout passed, that the Kaniko pod went away.
// Skaffold's own last line is often only "pod has failed", and the cause
// sits among hundreds of Kaniko log lines above it.
package buildlog

import (
	"bufio"
	"io"
	"regexp"
	"strings"
)

// Failure is one image whose build did not succeed.
type Failure struct {
	// Image is the image name as Skaffold writes it (no tag).
	Image string
	// Canceled is a build Skaffold stopped because another one failed.
	Canceled bool
	// Cause is the explanation; Detail the line it comes from.
	Cause  string
	Detail string
}

var (
	building  = regexp.MustCompile(`^Building \[([^\]]+)\]\.\.\.$`)
	ended     = regexp.MustCompile(`^Build \[([^\]]+)\] (succeeded|was canceled|failed: (.*))$`)
	ansi      = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	scopeList = regexp.MustCompile(`; \[map\[.*$`)
	// serverError is a registry's HTTP 5xx as Kaniko reports it.
	serverError = regexp.MustCompile(`status code 5\d\d|\b5\d\d internal|bad gateway|service unavailable`)
)

// Parse reads Skaffold's output and returns the failed and canceled
// builds, in the order they ended. Kaniko's lines inside an image's
// section ("Building [IMAGE]..." to "Build [IMAGE] ...") are searched for
// its own error ("error pushing image: ...", "error building image: ...").
func Parse(r io.Reader) ([]Failure, error) {
	var out []Failure
	current := ""
	lastError := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(ansi.ReplaceAllString(sc.Text(), ""))
		if m := building.FindStringSubmatch(line); m != nil {
			current = m[1]
			continue
		}
		if m := ended.FindStringSubmatch(line); m != nil {
			img := m[1]
			switch {
			case m[2] == "succeeded":
			case m[2] == "was canceled":
				out = append(out, Failure{Image: img, Canceled: true, Cause: "canceled: another tool's build failed first", Detail: lastError[img]})
			default:
				out = append(out, explain(img, m[3], lastError[img]))
			}
			if current == img {
				current = ""
			}
			continue
		}
		if current != "" && isKanikoError(line) {
			lastError[current] = scopeList.ReplaceAllString(line, "")
		}
	}
	return out, sc.Err()
}

// isKanikoError is a line the executor prints when it gives up. Skaffold's
// own log lines (its logrus fields subtask= and task=, as in `deleting pod:
// pods "kaniko-x" not found` when the pod went away) are not Kaniko's.
func isKanikoError(line string) bool {
	if strings.Contains(line, " subtask=") && strings.Contains(line, " task=") {
		return false
	}
	return strings.HasPrefix(line, "error ") || strings.HasPrefix(line, "ERRO") ||
		strings.Contains(line, "level=error") || strings.Contains(line, "level=fatal")
}

// explain turns Skaffold's reason and Kaniko's last error into a cause.
func explain(img, skaffoldWhy, kanikoErr string) Failure {
	f := Failure{Image: img, Detail: kanikoErr}
	if f.Detail == "" {
		f.Detail = skaffoldWhy
	}
	low := strings.ToLower(kanikoErr)
	switch {
	case strings.Contains(skaffoldWhy, "context deadline exceeded"):
		f.Cause = "Skaffold's build timeout passed before the Kaniko pod finished ([build.kaniko] timeout; Skaffold's default is 20m)"
		f.Detail = skaffoldWhy
	case strings.Contains(low, "unauthorized") || strings.Contains(low, " 401"):
		f.Cause = "the registry refused the push secret's login ([build.cluster] secret: check its registry, user and password, or run cwlbuild check --cluster)"
	case strings.Contains(low, "denied") || strings.Contains(low, " 403"):
		f.Cause = "the push secret's login may not push to this repository"
	case serverError.MatchString(low):
		f.Cause = "the registry failed (HTTP 5xx) while Kaniko pushed; nothing was pinned, run the build again once it answers"
	case strings.Contains(low, "eof") || strings.Contains(low, "connection refused") || strings.Contains(low, "i/o timeout") ||
		strings.Contains(low, "connection reset") || strings.Contains(low, "no such host"):
		f.Cause = "the registry could not be reached from the Kaniko pod; nothing was pinned, run the build again once it answers"
	case strings.HasPrefix(low, "error building image"):
		f.Cause = "the Dockerfile's build failed in Kaniko"
	case kanikoErr != "":
		f.Cause = "Kaniko failed"
	case strings.Contains(skaffoldWhy, "pod has failed") || strings.Contains(skaffoldWhy, "not found"):
		f.Cause = "the Kaniko pod ended without an error of Kaniko's: it was deleted, evicted, or killed (OOMKilled: raise [build.kaniko.resources.limits] memory)"
	default:
		f.Cause = "Skaffold: " + skaffoldWhy
	}
	return f
}
