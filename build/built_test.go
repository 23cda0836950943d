package build

import "testing"

func TestParseBuilt(t *testing.T) {
	d := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for ref, want := range map[string]Built{
		"127.0.0.1:5000/eoap/crop:0.1.0@" + d: {Repo: "127.0.0.1:5000/eoap/crop", Tag: "0.1.0", Digest: d},
		"ghcr.io/eoap/crop@" + d:              {Repo: "ghcr.io/eoap/crop", Digest: d},
	} {
		got, err := ParseBuilt(ref)
		if err != nil || got.Repo != want.Repo || got.Tag != want.Tag || got.Digest != want.Digest || got.Ref() != ref || got.Index() {
			t.Errorf("ParseBuilt(%q) = %+v, %v", ref, got, err)
		}
	}
	for _, ref := range []string{"ghcr.io/eoap/crop:1", "ghcr.io/eoap/crop@sha256:12", "", "Bad/Name@" + d} {
		if _, err := ParseBuilt(ref); err == nil {
			t.Errorf("ParseBuilt(%q) accepted", ref)
		}
	}
	if !(Built{Platforms: []PlatformImage{{"linux/amd64", d}}}).Index() {
		t.Error("an image with platforms is no index")
	}
}
