package kanikopod

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
)

// TestPlace: a platform goes to nodes of its architecture; one no node
// runs is emulated only when allowed, else the error names it and the
// architectures there are; unknown nodes leave it to the scheduler.
func TestPlace(t *testing.T) {
	plats := []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}
	got, err := Place(plats, []string{"amd64", "arm64"}, false)
	if err == nil || !strings.Contains(err.Error(), "no node for linux/arm/v7 (its nodes are amd64, arm64)") || got != nil {
		t.Errorf("arm/v7 without a node or emulation: %v, %v", got, err)
	}
	got, err = Place(plats, []string{"amd64", "arm64"}, true)
	want := []Placement{{"linux/amd64", "amd64", false}, {"linux/arm64", "arm64", false}, {"linux/arm/v7", "", true}}
	if err != nil || len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("with emulation: %+v, %v", got, err)
	}
	got, err = Place(plats[:2], nil, false)
	if err != nil || got[1].Arch != "arm64" || got[1].Emulated {
		t.Errorf("unknown nodes: %+v, %v", got, err)
	}
}

// TestPodSpec: the selector asks for the architecture (none when
// emulated), the push secret is mounted where Kaniko reads it, the
// failure's log tail becomes the termination message, a bad quantity is
// an error naming it.
func TestPodSpec(t *testing.T) {
	s := &api.KanikoBuild{ExecutorImage: "k", InitImage: "b", Secret: "push", Requests: map[string]string{"cpu": "1"}, Limits: map[string]string{"memory": "2Gi"}}
	b := api.KanikoPlatform{Platform: "linux/arm64", Args: []string{"--destination", "r/x:1-linux-arm64"}}
	p, err := PodSpec(s, b, Placement{Platform: "linux/arm64", Arch: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Spec.Containers[0]
	if p.Spec.NodeSelector[ArchLabel] != "arm64" || p.Labels["cwlbuild.eoap.io/platform"] != "linux-arm64" ||
		c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError || c.VolumeMounts[1].MountPath != "/kaniko/.docker" ||
		c.Resources.Requests.Cpu().String() != "1" || c.Resources.Limits.Memory().String() != "2Gi" || c.Args[1] != "r/x:1-linux-arm64" {
		t.Errorf("pod: %+v", p)
	}
	p, _ = PodSpec(s, b, Placement{Platform: "linux/arm64", Emulated: true})
	if _, ok := p.Spec.NodeSelector[ArchLabel]; ok {
		t.Errorf("an emulated build asks for an arm64 node: %v", p.Spec.NodeSelector)
	}
	s.Limits["memory"] = "lots"
	if _, err := PodSpec(s, b, Placement{}); err == nil || !strings.Contains(err.Error(), `memory = "lots"`) {
		t.Errorf("bad quantity: %v", err)
	}
}
