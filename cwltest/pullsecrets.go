package cwltest

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/agentapi"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
)

// readAccount runs `cwlbuild-calrissian account`: a service account's
// pull secrets.
func readAccount(ctx context.Context, namespace, name string) (*agentapi.Account, error) {
	prog, err := agentapi.Find(" (it reads the account's pull secrets)")
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, prog, "account", "--namespace="+namespace, "--service-account="+name).Output()
	if err != nil {
		return nil, fmt.Errorf("%s account: %v", agentapi.Program, err)
	}
	var a agentapi.Account
	if err := json.Unmarshal(out, &a); err != nil {
		return nil, fmt.Errorf("%s account: %v", agentapi.Program, err)
	}
	return &a, nil
}

// pullSecretSeams are what PullSecrets' tests swap.
type pullSecretSeams struct {
	// account reads an account (readAccount when nil).
	account func(ctx context.Context, namespace, name string) (*agentapi.Account, error)
	// needsLogin asks a registry whether image needs a login
	// (remote.NeedsLogin when nil).
	needsLogin func(ctx context.Context, image string, insecure []string) (bool, error)
}

// PullSecrets warns, for `cwlbuild check`, when the service account a
// cluster test runs as has no pull secret for a registry that the pins name
// and that refuses anonymous pulls: its tool pods would never start. It
// says nothing where it cannot tell: no cluster tests, no
// cwlbuild-calrissian or kubeconfig, a secret this user may not read, a
// registry that does not answer.
func PullSecrets(ctx context.Context, p *builder.Plan) []builder.Diagnostic {
	return pullSecrets(ctx, p, pullSecretSeams{account: readAccount, needsLogin: remote.NeedsLogin})
}

func pullSecrets(ctx context.Context, p *builder.Plan, opts pullSecretSeams) []builder.Diagnostic {
	if p.Engine != builder.EngineCluster || len(p.Tests) == 0 {
		return nil
	}
	pins, err := cwlpatch.PinnedImages(p)
	if err != nil || len(pins) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// The registries that need a login, each with one pin to name.
	needs := map[string]cwlpatch.PinnedImage{}
	asked := map[string]bool{}
	for _, pin := range pins {
		host := imageref.Host(pin.Ref)
		if asked[host] {
			continue
		}
		asked[host] = true
		if yes, err := opts.needsLogin(ctx, pin.Ref, p.Kaniko.Insecure); err == nil && yes {
			needs[host] = pin
		}
	}
	if len(needs) == 0 {
		return nil
	}
	type key struct{ ns, sa string }
	var diags []builder.Diagnostic
	seen := map[key]bool{}
	for _, t := range p.Tests {
		k := key{t.Job.Namespace, t.PodServiceAccount}
		if seen[k] {
			continue
		}
		seen[k] = true
		a, err := opts.account(ctx, k.ns, k.sa)
		if err != nil {
			return diags // no cluster to ask: cannot tell
		}
		where := "test " + t.DisplayName()
		line := p.Line(t.Key)
		if !a.Exists {
			diags = append(diags, builder.Diagnostic{File: p.File, Line: line, Key: t.Key, Severity: builder.SeverityWarning,
				Message: fmt.Sprintf("%s runs as service account %q, which does not exist in namespace %q", where, a.Name, a.Namespace)})
			continue
		}
		covered := map[string]bool{}
		unknown := false
		for _, s := range a.Secrets {
			unknown = unknown || s.Unknown != ""
			for _, r := range s.Registries {
				covered[r] = true
			}
		}
		if unknown {
			continue // a secret this user cannot read may hold the login
		}
		var missing []string
		for reg := range needs {
			if !covered[reg] {
				missing = append(missing, reg)
			}
		}
		sort.Strings(missing)
		for _, reg := range missing {
			diags = append(diags, builder.Diagnostic{File: p.File, Line: line, Key: t.Key, Severity: builder.SeverityWarning,
				Message: fmt.Sprintf("%s runs as service account %s/%s, whose imagePullSecrets (%s) hold no login for %s, which refuses anonymous pulls of the pinned %s (%s): its tool pods could not pull it; add the push secret: kubectl -n %s patch serviceaccount %s -p '{\"imagePullSecrets\": [{\"name\": \"SECRET\"}]}'",
					where, a.Namespace, a.Name, secretNames(a), reg, needs[reg].Ref, needs[reg].Place, a.Namespace, a.Name)})
		}
	}
	return diags
}

func secretNames(a *agentapi.Account) string {
	if len(a.Secrets) == 0 {
		return "none"
	}
	var names []string
	for _, s := range a.Secrets {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
