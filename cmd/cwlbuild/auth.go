package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/internal/dockerconfig"
)

func authCommand() *cli.Command {
	return &cli.Command{
		Name:      "auth",
		Usage:     "write registry credentials for Kaniko, podman and Skaffold, safely",
		UsageText: "cwlbuild auth --registry R --username U --password-stdin [--output FILE | --secret NAME --namespace NS]",
		Description: `Merges one registry login into a Docker config.json (other registries are kept)
and writes it with mode 0600, atomically. Default file: $DOCKER_CONFIG/config.json,
else /kaniko/.docker/config.json when that directory exists (inside the Kaniko
image), else ~/.docker/config.json. With --secret it prints instead a Kubernetes
Secret of type kubernetes.io/dockerconfigjson: the push secret project.toml's
[build.cluster] secret names.

The password is read from stdin or from the environment, never from the command
line, and is never printed: quotes, spaces, '$' and newlines in it are kept
exactly. GitLab CI's CI_REGISTRY, CI_REGISTRY_USER and CI_REGISTRY_PASSWORD are
used when the flags are absent.

Examples:
   echo "$CI_REGISTRY_PASSWORD" | cwlbuild auth --registry "$CI_REGISTRY" --username "$CI_REGISTRY_USER" --password-stdin
   cwlbuild auth                                     # GitLab CI: everything from CI_REGISTRY*
   cwlbuild auth --registry ghcr.io --username me --password-stdin --secret kaniko-secret --namespace ns < token | kubectl apply -f -
   cwlbuild auth --registry r.example --token-stdin < oidc-token`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "registry", EnvVars: []string{"CI_REGISTRY"}, Usage: "registry host, e.g. ghcr.io"},
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, EnvVars: []string{"CI_REGISTRY_USER"}, Usage: "user name"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from stdin (one trailing newline is dropped)"},
			&cli.BoolFlag{Name: "token-stdin", Usage: "read an identity token (OAuth/OIDC) from stdin instead of a password"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "config.json to merge into (default: see above)"},
			&cli.StringFlag{Name: "secret", Usage: "print a kubernetes.io/dockerconfigjson Secret named `NAME` instead of writing a file"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "namespace of the Secret"},
		},
		Action: runAuth,
	}
}

// maxSecret bounds what --password-stdin and --token-stdin read: a longer
// input is refused, never cut to a credential that looks valid.
const maxSecret = 1 << 20

func runAuth(c *cli.Context) error {
	cred := dockerconfig.Credential{Registry: c.String("registry"), Username: c.String("username")}
	if err := readSecret(c, &cred); err != nil {
		return err
	}
	if err := cred.Validate(); err != nil {
		return cli.Exit("cwlbuild auth: "+err.Error(), 2)
	}
	if name := c.String("secret"); name != "" {
		if c.IsSet("output") {
			return cli.Exit("cwlbuild auth: --secret prints a manifest; it does not go with --output", 2)
		}
		data, err := dockerconfig.Secret(name, c.String("namespace"), cred)
		if err != nil {
			return cli.Exit("cwlbuild auth: "+err.Error(), 1)
		}
		_, err = c.App.Writer.Write(data)
		return err
	}
	path := c.String("output")
	if path == "" {
		path = dockerconfig.DefaultPath()
	}
	written, err := dockerconfig.WriteFile(path, cred)
	if err != nil {
		return cli.Exit("cwlbuild auth: "+err.Error(), 1)
	}
	where := path
	if written != path {
		where = fmt.Sprintf("%s (the target of the symlink %s)", written, path)
	}
	fmt.Fprintf(c.App.ErrWriter, "cwlbuild auth: credentials for %s written to %s (mode 0600)\n", dockerconfig.Key(cred.Registry), where)
	return nil
}

// readSecret fills the password or identity token of cred: from stdin with
// --password-stdin or --token-stdin, else from CI_REGISTRY_PASSWORD.
func readSecret(c *cli.Context, cred *dockerconfig.Credential) error {
	switch {
	case c.Bool("password-stdin") && c.Bool("token-stdin"):
		return cli.Exit("cwlbuild auth: --password-stdin or --token-stdin, not both", 2)
	case c.Bool("password-stdin"), c.Bool("token-stdin"):
		data, err := io.ReadAll(io.LimitReader(c.App.Reader, maxSecret+1))
		if err != nil {
			return cli.Exit("cwlbuild auth: reading stdin: "+err.Error(), 1)
		}
		if len(data) > maxSecret {
			return cli.Exit(fmt.Sprintf("cwlbuild auth: stdin holds more than %d bytes: not a password or token (nothing written)", maxSecret), 1)
		}
		// One line ending goes, "\n" or "\r\n"; a lone "\r" is part of
		// the secret.
		s, ok := strings.CutSuffix(string(data), "\r\n")
		if !ok {
			s = strings.TrimSuffix(s, "\n")
		}
		if c.Bool("token-stdin") {
			cred.IdentityToken = s
		} else {
			cred.Password = s
		}
	default:
		cred.Password = os.Getenv("CI_REGISTRY_PASSWORD")
	}
	return nil
}
