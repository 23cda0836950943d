package buildlog

import (
	"strings"
	"testing"
)

// The lines below are what Skaffold v2.24 and Kaniko printed in the
// cluster for each fault (TestClusterBuildFaults), shortened.
const wrongPassword = `Building 2 artifacts in parallel
Building [r/ns/quick]...
Start building with kaniko for artifact
Sending build context to Kaniko pod     234B
error checking push permissions -- make sure you entered the correct tag name, and that you are authenticated correctly, and try again: checking push permission for "r/ns/quick:0.1.0": POST http://r/v2/ns/quick/blobs/uploads/: UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:ns/quick Type:repository]]
Build [r/ns/quick] was canceled
Building [r/ns/slow]...
Start building with kaniko for artifact
error checking push permissions -- make sure you entered the correct tag name: checking push permission for "r/ns/slow:0.1.0": POST http://r/v2/ns/slow/blobs/uploads/: UNAUTHORIZED: authentication required; [map[Action:pull]]
Build [r/ns/slow] failed: pod has failed
pod has failed
`

const deleted = "Building [r/ns/slow]...\n\x1b[36mINFO\x1b[0m[0000] Running: [/bin/sh -c sleep 15]\nBuild [r/ns/slow] failed: pod has failed\nBuilding [r/ns/quick]...\nBuild [r/ns/quick] succeeded\n"

// deletedRace is the deleted pod when Skaffold, racing the deletion, logs
// its own error inside the image's section (seen in CI).
const deletedRace = "Building [r/ns/slow]...\n\x1b[36mINFO\x1b[0m[0000] Running: [/bin/sh -c sleep 15]\n" +
	`time="2026-12-07T02:48:54Z" level=error msg="deleting pod: pods \"kaniko-5299v\" not found" subtask=-1 task=DevLoop` + "\n" +
	"Build [r/ns/slow] failed: pod has failed\n"

const registry500 = `Building [r/ns/slow]...
WARN[0020] Error uploading layer to cache: failed to push to destination r/ns/cache:35b8: unexpected status code 500 Internal Server Error: injected failure
error pushing image: failed to push to destination r/ns/slow:0.1.0: POST http://r/v2/ns/slow/blobs/uploads/: unexpected status code 500 Internal Server Error: injected failure
Build [r/ns/slow] failed: pod has failed
`

const down = `Building [r/ns/slow]...
error pushing image: failed to push to destination r/ns/slow:0.1.0: Get "http://r/v2/": EOF
Build [r/ns/slow] failed: pod has failed
`

const timeout = `Building [r/ns/slow]...
INFO[0015] Pushed r/ns/slow@sha256:169d
Build [r/ns/slow] failed: context deadline exceeded
`

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		want      []string // image: cause prefix
	}{
		{"wrong-password", wrongPassword, []string{"r/ns/quick: canceled", "r/ns/slow: the registry refused the push secret's login"}},
		{"pod-deleted", deleted, []string{"r/ns/slow: the Kaniko pod ended without an error of Kaniko's"}},
		{"pod-deleted, Skaffold's own error line", deletedRace, []string{"r/ns/slow: the Kaniko pod ended without an error of Kaniko's"}},
		{"registry-500", registry500, []string{"r/ns/slow: the registry failed (HTTP 5xx)"}},
		{"registry-down", down, []string{"r/ns/slow: the registry could not be reached"}},
		{"timeout", timeout, []string{"r/ns/slow: Skaffold's build timeout passed"}},
		{"success", "Building [a]...\nBuild [a] succeeded\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.log))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d failures, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, f := range got {
				if s := f.Image + ": " + f.Cause; !strings.HasPrefix(s, tc.want[i]) {
					t.Errorf("failure %d: %q, want it to start with %q", i, s, tc.want[i])
				}
				if strings.Contains(f.Detail, "[map[") {
					t.Errorf("detail keeps the scope list: %s", f.Detail)
				}
			}
		})
	}
	// The 500 is the push's, not the cache warning's.
	got, _ := Parse(strings.NewReader(registry500))
	if !strings.HasPrefix(got[0].Detail, "error pushing image") {
		t.Errorf("detail %q, want Kaniko's push error", got[0].Detail)
	}
}

// TestParseHostile: the log of a build whose Dockerfile prints what it
// likes. A RUN's forged Kaniko error is not the cause when Kaniko logs on
// after it; escape sequences and carriage returns never reach the cause or
// its detail; a line of megabytes is read, cut, and the parse goes on.
func TestParseHostile(t *testing.T) {
	forged := "Building [r/ns/app]...\n" +
		"INFO[0001] Running: [/bin/sh -c echo 'error pushing image: UNAUTHORIZED: authentication required'; exit 3]\n" +
		"error pushing image: UNAUTHORIZED: authentication required\n" +
		"INFO[0001] Taking snapshot of full filesystem...\n" +
		"error building image: error building stage: failed to execute command: waiting for process to exit: exit status 3\n" +
		"Build [r/ns/app] failed: pod has failed\n"
	forgedThenDeleted := "Building [r/ns/app]...\n" +
		"error pushing image: UNAUTHORIZED: authentication required\n" +
		"\x1b[36mINFO\x1b[0m[0002] Running: [/bin/sh -c sleep 100]\n" +
		"Build [r/ns/app] failed: pod has failed\n"
	escapes := "Building [r/ns/app]...\n" +
		"error building image: \x1b]0;owned title\a\x1b[2Kstep failed\rhidden \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\\x9b31m\n" +
		"Build [r/ns/app] failed: pod has failed\n"
	long := "Building [r/ns/app]...\n" + strings.Repeat("y", 5<<20) + "\n" +
		"error pushing image: failed to push to destination r/ns/app:1: Get \"http://r/v2/\": EOF\n" +
		"Build [r/ns/app] failed: pod has failed\n"
	for _, tc := range []struct{ name, log, cause string }{
		{"forged push error before Kaniko's own", forged, "the Dockerfile's build failed in Kaniko"},
		{"forged push error, then the pod deleted", forgedThenDeleted, "the Kaniko pod ended without an error of Kaniko's"},
		{"escape sequences", escapes, "the Dockerfile's build failed in Kaniko"},
		{"a 5 MB line", long, "the registry could not be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.log))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !strings.HasPrefix(got[0].Cause, tc.cause) {
				t.Fatalf("got %+v, want one failure starting %q", got, tc.cause)
			}
			for _, s := range []string{got[0].Cause, got[0].Detail} {
				if strings.ContainsAny(s, "\x1b\r\a\x9b") || strings.Contains(s, "\u009b") {
					t.Errorf("%q keeps a terminal control", s)
				}
			}
		})
	}
}
