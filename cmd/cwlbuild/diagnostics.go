package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// formatFlag is --format of the commands that report diagnostics: text
// for people, json for CI annotations, the same shape from every command.
func formatFlag() cli.Flag {
	return &cli.StringFlag{Name: "format", Value: "text", Usage: "`text` or json (a list of diagnostics: file, line, key, severity, message, rule)"}
}

func parseFormat(c *cli.Context) (string, error) {
	switch f := c.String("format"); f {
	case "text", "json":
		return f, nil
	default:
		return "", fmt.Errorf("--format %q: want text or json", f)
	}
}
