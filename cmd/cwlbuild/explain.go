package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/buildlog"
)

func explainCommand() *cli.Command {
	return &cli.Command{
		Name:      "explain",
		Usage:     "say, for each tool whose build failed, why: from the output of a failed skaffold build",
		UsageText: "cwlbuild explain [-f project.toml] SKAFFOLD_OUTPUT",
		Description: `Reads what skaffold build printed and prints one line per tool whose build failed or
was canceled: the tool, its image, the cause in the package's terms (the push secret's
login refused, the registry failing or unreachable, Skaffold's timeout, the Kaniko pod
deleted or killed) and the line it comes from. task build runs it when the build fails,
then exits non-zero; build.json and the CWL files are left as they were.

Examples:
   skaffold build -f skaffold-auto.yaml 2>&1 | tee build.log || cwlbuild explain build.log`,
		Flags:  []cli.Flag{projectFlag()},
		Action: runExplain,
	}
}

func runExplain(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("usage: "+c.Command.UsageText, 2)
	}
	f, err := os.Open(c.Args().First())
	if err != nil {
		return cli.Exit("cwlbuild explain: "+err.Error(), 1)
	}
	defer f.Close()
	failures, err := buildlog.Parse(f)
	if err != nil {
		return cli.Exit("cwlbuild explain: "+err.Error(), 1)
	}
	// Skaffold names images; the package's people know tools.
	tools := map[string]string{}
	if p, err := builder.LoadContext(c.Context, c.String("file"), builder.LoadOptions{SkipCWL: true, SkipTests: true, SkipContexts: true, AllowOutsidePaths: allowOutside(c)}); err == nil {
		for _, a := range p.Artifacts {
			for _, img := range a.Images {
				tools[img] = a.Tool
			}
		}
	}
	w := c.App.Writer
	if len(failures) == 0 {
		fmt.Fprintln(w, "cwlbuild: the build failed before any tool's build ended (see Skaffold's last lines above); nothing was pinned")
		return nil
	}
	fmt.Fprintln(w, "cwlbuild: the build failed; nothing was pinned (build.json and the CWL files are as they were):")
	for _, fl := range failures {
		name := tools[fl.Image]
		if name == "" {
			name = "?"
		}
		fmt.Fprintf(w, "  tool %s (%s): %s\n", name, fl.Image, fl.Cause)
		if fl.Detail != "" && !fl.Canceled {
			fmt.Fprintf(w, "      %s\n", fl.Detail)
		}
	}
	return nil
}
