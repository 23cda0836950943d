// cwlbuild-sbom makes the SBOM of each image it is given, with Anchore's
// syft, and attaches it to the image digest as an OCI referrer: what
// `cwlbuild sbom` runs. A program of its own because syft's catalogers
// cost every program that links them about 30 ms of start-up and 100 MB:
// cwlbuild, which Skaffold starts once per image, stays without them.
//
//	cwlbuild-sbom --format spdx|cyclonedx [--output DIR] [--no-attach] [--insecure-registry HOST]... IMAGE@DIGEST|docker-archive:PATH[:IMAGE@DIGEST]|dir:PATH...
//
// An image in a docker-archive tarball (what `cwlbuild tar` writes), named
// as skopeo names one, docker-archive:PATH[:IMAGE[:TAG]@DIGEST], has its
// SBOM written into --output as NAME.FORMAT.json, NAME the tarball's name
// without ".tar": there is no registry to attach it to. The SBOM names the
// image, when given, rather than the path. A directory, dir:PATH (the
// binaries of a release), likewise gets NAME.FORMAT.json, NAME its base
// name.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/eoap/cwlbuild/internal/genfile"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/sbomformat"
	"github.com/eoap/cwlbuild/internal/sbomformat/catalog"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cwlbuild-sbom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", sbomformat.SPDX, "spdx or cyclonedx")
	output := fs.String("output", "", "also write each SBOM into `DIR`")
	root := fs.String("root", "", "no symlink below `DIR` may lead the files out (default: the output directory)")
	noAttach := fs.Bool("no-attach", false, "attach nothing to the images")
	var insecure multi
	fs.Var(&insecure, "insecure-registry", "registry reached over plain HTTP (loopback ones always are)")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: cwlbuild-sbom --format spdx|cyclonedx [--output DIR] [--no-attach] [--insecure-registry HOST]... IMAGE@DIGEST|docker-archive:PATH[:IMAGE@DIGEST]|dir:PATH...")
		return 2
	}
	if err := generate(ctx, fs.Args(), *format, *output, *root, !*noAttach, insecure, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "cwlbuild sbom:", err)
		return 1
	}
	return 0
}

// archivePrefix marks an image in a docker-archive tarball, as syft and
// skopeo name one.
const archivePrefix = "docker-archive:"

// dirPrefix marks a directory of files (a release's binaries), as syft
// names one.
const dirPrefix = "dir:"

// splitArchive splits docker-archive:PATH[:IMAGE@DIGEST] as skopeo does,
// at the first colon after the path; the image, when given, must name its
// digest (the SBOM names it).
func splitArchive(ref string) (string, imageref.Reference, error) {
	rest := strings.TrimPrefix(ref, archivePrefix)
	path, image, named := strings.Cut(rest, ":")
	if path == "" {
		return "", imageref.Reference{}, fmt.Errorf("%q: want %sPATH[:IMAGE@DIGEST]", ref, archivePrefix)
	}
	if !named {
		return path, imageref.Reference{}, nil
	}
	r, err := imageref.Parse(image)
	if err != nil || r.Digest == "" {
		return "", imageref.Reference{}, fmt.Errorf("%q: want %sPATH[:IMAGE@DIGEST]", ref, archivePrefix)
	}
	return path, r, nil
}

func generate(ctx context.Context, refs []string, format, output, root string, attach bool, insecure []string, stdout, stderr io.Writer) error {
	mediaType, err := sbomformat.MediaType(format)
	if err != nil {
		return err
	}
	if !attach && output == "" {
		return fmt.Errorf("--no-attach without --output would keep nothing")
	}
	for _, ref := range refs {
		if strings.HasPrefix(ref, dirPrefix) {
			if output == "" || ref == dirPrefix {
				return fmt.Errorf("%s: a directory's SBOM is written into --output DIR: none given", ref)
			}
			continue
		}
		if strings.HasPrefix(ref, archivePrefix) {
			if output == "" {
				return fmt.Errorf("%s: an archive's SBOM is written into --output DIR: none given", ref)
			}
			if _, _, err := splitArchive(ref); err != nil {
				return err
			}
			continue
		}
		if r, err := imageref.Parse(ref); err != nil || r.Digest == "" {
			return fmt.Errorf("%q: want REPOSITORY[:TAG]@sha256:DIGEST or %sPATH", ref, archivePrefix)
		}
	}
	for i, ref := range refs {
		var data []byte
		var name, byDigest string
		var r imageref.Reference
		if path, ok := strings.CutPrefix(ref, dirPrefix); ok {
			base := filepath.Base(filepath.Clean(path))
			fmt.Fprintf(stderr, "[%d/%d] cataloguing %s\n", i+1, len(refs), ref)
			if data, err = catalog.FromDir(ctx, path, base, format); err != nil {
				return err
			}
			name = base + "." + format + ".json"
		} else if strings.HasPrefix(ref, archivePrefix) {
			path, image, _ := splitArchive(ref)
			fmt.Fprintf(stderr, "[%d/%d] cataloguing %s\n", i+1, len(refs), ref)
			if data, err = catalog.FromArchive(ctx, path, image.Repo, image.Digest, format); err != nil {
				return err
			}
			name = strings.TrimSuffix(filepath.Base(path), ".tar") + "." + format + ".json"
		} else {
			r, _ = imageref.Parse(ref)
			byDigest = r.Repo + "@" + r.Digest
			fmt.Fprintf(stderr, "[%d/%d] cataloguing %s\n", i+1, len(refs), byDigest)
			if data, err = catalog.Generate(ctx, byDigest, format, insecure); err != nil {
				return err
			}
			name = strings.NewReplacer("/", "_", ":", "_", "@", "_").Replace(byDigest) + "." + format + ".json"
		}
		if output != "" {
			dir, err := filepath.Abs(output)
			if err != nil {
				return err
			}
			top := dir
			if root != "" {
				if top, err = filepath.Abs(root); err != nil {
					return err
				}
			}
			if err := genfile.MkdirAll(top, dir); err != nil {
				return err
			}
			if err := genfile.WriteAll(ctx, []genfile.File{{Root: top, Path: filepath.Join(dir, name), Data: data}}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "sbom %s (%s, %d bytes, %s)\n", ref, format, len(data), filepath.Join(output, name))
		}
		if byDigest == "" {
			continue
		}
		if attach {
			d, err := remote.AttachReferrer(ctx, r.Repo, r.Digest, mediaType, data, insecure)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "sbom %s (%s, %d bytes, %s@%s)\n", byDigest, format, len(data), r.Repo, d)
		}
	}
	return nil
}
