package textdiff

import "testing"

func TestUnified(t *testing.T) {
	if got := Unified([]byte("a\n"), []byte("a\n"), "x", "y"); got != "" {
		t.Errorf("equal inputs: %q", got)
	}
	want := "--- old.yaml\n+++ new.yaml\n@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n"
	if got := Unified([]byte("1\n2\n3\n4\n5\n6\n"), []byte("1\n2\nthree\n4\n5\n6\n"), "old.yaml", "new.yaml"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
