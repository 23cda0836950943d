// Package check is `cwlbuild check`: Collect gathers every stage's check
// into one []builder.Diagnostic, and Cluster is `cwlbuild check --cluster`,
// the pre-flight of a cluster build. The pre-flight turns the plan into
// what it checks (the executor and init images, each tool's base images as
// Kaniko resolves them, each repository the build pushes to and the cache
// repository) and runs it through the cluster agent (cwlbuild-calrissian
// preflight), which does the checks from one short pod in the build
// namespace, as the build's service account, with the push secret mounted:
// what passes there passes in Skaffold's Kaniko pods, which run the same
// way.
package check

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/cwltest"
	"github.com/eoap/cwlbuild/skaffold"
)

// Options says what Collect loads and how strictly it reports.
type Options struct {
	// AllowOutsidePaths lets contexts and CWL files leave the package
	// (builder.LoadOptions.AllowOutsidePaths).
	AllowOutsidePaths bool
	// Strict makes the application-package rules' warnings errors, except
	// the dockerPull hint (cwlpatch.Conformance), as `cwlbuild check
	// --strict` does before a release.
	Strict bool
}

// Collect runs every stage's check on the package whose project.toml is
// file, in pipeline order: the load (every problem of project.toml, the
// contexts and the Dockerfiles), builder.Check, the skaffold on PATH,
// cwlpatch.Check and cwlpatch.Conformance (the CWL, so that a missing CWL
// file hides none of the others' problems), cwltest.PullSecrets and
// skaffold.Check (generate's outputs). The plan is nil when the load
// failed; the diagnostics then still hold the CWL's problems when the
// package loads without its contexts.
func Collect(ctx context.Context, file string, opts Options) ([]builder.Diagnostic, *builder.Plan) {
	load := builder.LoadOptions{SkipCWL: true, AllowOutsidePaths: opts.AllowOutsidePaths}
	plan, err := builder.LoadContext(ctx, file, load)
	if err != nil {
		diags := builder.Diagnose(err, builder.SeverityError)
		// A missing build context hides no CWL problem: check the CWL of
		// a plan loaded without the contexts, when that one loads.
		load.SkipContexts = true
		if cwlOnly, err := builder.LoadContext(ctx, file, load); err == nil {
			diags = append(diags, cwlpatch.Check(cwlOnly)...)
		}
		return diags, nil
	}
	diags := builder.Check(plan)
	if w := SkaffoldOnPath(ctx); w != "" {
		diags = append(diags, builder.Diagnostic{Severity: builder.SeverityWarning, Message: w})
	}
	diags = append(diags, cwlpatch.Check(plan)...)
	diags = append(diags, cwlpatch.PackageChecks(plan, opts.Strict)...)
	diags = append(diags, cwltest.PullSecrets(ctx, plan)...)
	diags = append(diags, BasePlatforms(ctx, plan)...)
	return append(diags, skaffold.Check(plan, filepath.Join(filepath.Dir(plan.File), skaffold.DefaultFile))...), plan
}

// Errors counts the diagnostics that fail a check.
func Errors(diags []builder.Diagnostic) int {
	n := 0
	for _, d := range diags {
		if d.Severity == builder.SeverityError {
			n++
		}
	}
	return n
}

// SkaffoldOnPath says when the skaffold on PATH cannot read the generated
// config: its `skaffold schema list` lacks the schema generate writes. No
// skaffold on PATH is fine (the chain runs the one go.mod pins).
func SkaffoldOnPath(ctx context.Context) string {
	path, err := exec.LookPath("skaffold")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "schema", "list").Output()
	if err != nil {
		return fmt.Sprintf("%s schema list failed (%v): cannot tell whether it reads %s, the schema cwlbuild generate writes", path, err, skaffold.APIVersion)
	}
	for _, v := range strings.Fields(string(out)) {
		if v == skaffold.APIVersion {
			return ""
		}
	}
	return fmt.Sprintf("%s does not read %s, the schema cwlbuild generate writes: install Skaffold %s or newer", path, skaffold.APIVersion, skaffold.SchemaVersion())
}
