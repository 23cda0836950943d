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
	building = regexp.MustCompile(`^Building \[([^\]]+)\]\.\.\.$`)
	ended    = regexp.MustCompile(`^Build \[([^\]]+)\] (succeeded|was canceled|failed: (.*))$`)
	// terminal is every escape sequence a line may carry: CSI (colours,
	// cursor moves), OSC (a title, a link) ended by BEL or ST, and any
	// other ESC pair; none is left for a terminal to obey.
	terminal = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\a\x1b]*(\a|\x1b\\)?|\x1b[@-_]?`)
	// kanikoLog is a log line of the executor's own (logrus' text form,
	// INFO[0015] ...): after it, an earlier error-looking line was not
	// Kaniko's last word but a build step's output.
	kanikoLog = regexp.MustCompile(`^(INFO|WARN|DEBU|TRAC)\[\d+\]`)
	scopeList = regexp.MustCompile(`; \[map\[.*$`)
	// serverError is a registry's HTTP 5xx as Kaniko reports it.
	serverError = regexp.MustCompile(`status code 5\d\d|\b5\d\d internal|bad gateway|service unavailable`)
)

// MaxLine is the longest line Parse reads whole; the rest is cut.
const MaxLine = 64 << 10

// Parse reads Skaffold's output and returns the failed and canceled
// builds, in the order they ended. Kaniko's lines inside an image's
// section ("Building [IMAGE]..." to "Build [IMAGE] ...") are searched for
// its own error ("error pushing image: ...", "error building image: ..."):
// the executor's last word before it exits. A build step's output can
// print anything, "error pushing image: UNAUTHORIZED" too, but Kaniko
// logs on after a step (INFO[...] Taking snapshot ...), and a step that
// fails is followed by Kaniko's own "error building image": an error line
// with a log line of Kaniko's after it is not the cause.
//
// The log is hostile (a RUN writes into it): lines of any length are read
// (cut at MaxLine), and every terminal escape sequence and carriage
// return is taken out of what Parse returns.
func Parse(r io.Reader) ([]Failure, error) {
	var out []Failure
	current := ""
	lastError := map[string]string{}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		raw, err := readLine(br)
		if err == io.EOF && raw == "" {
			break
		} else if err != nil && err != io.EOF {
			return out, err
		}
		line := Clean(raw)
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
		switch {
		case current == "":
		case isKanikoError(line):
			lastError[current] = scopeList.ReplaceAllString(line, "")
		case kanikoLog.MatchString(line):
			delete(lastError, current)
		}
	}
	return out, nil
}

// readLine returns the next line without its newline, at most MaxLine
// bytes of it (the rest is read and dropped).
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if room := MaxLine - len(b); room > 0 {
			b = append(b, chunk[:min(len(chunk), room)]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return strings.TrimSuffix(string(b), "\n"), err
	}
}

// Clean is line without terminal escape sequences, carriage returns, other
// control characters and invalid UTF-8, trimmed: what a terminal would not show, or
// would obey, is not passed on.
func Clean(line string) string {
	// Invalid UTF-8 first: a lone byte 0x9b is CSI to an 8-bit terminal.
	line = terminal.ReplaceAllString(strings.ToValidUTF8(line, ""), "")
	line = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return -1
		}
		return r
	}, line)
	return strings.TrimSpace(line)
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
