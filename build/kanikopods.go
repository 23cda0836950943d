package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/eoap/cwlbuild/internal/agentapi"
	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
)

// KanikoPods builds in the cluster's Kaniko pods, one per platform, each
// on a node of its platform's architecture (or emulated where the cluster
// allows it), through the agent (`cwlbuild-calrissian kaniko`), and pushes
// the image index of their images under the build's tag. It is the
// cluster's kaniko builder for a tool of several platforms: Skaffold's own
// Kaniko pods (v2.24, measured) pass no --custom-platform, have no
// emulation, and leave a platform no node runs Pending until Skaffold's
// 10-minute timeout (skaffold#9861 reports their node selection).
// Pods holds everything of the agent's spec but the builds; Agent is its
// path ("" finds it on PATH).
type KanikoPods struct {
	Agent string
	Pods  agentapi.KanikoBuild
}

// Name is "kaniko".
func (KanikoPods) Name() string { return "kaniko" }

// Commands are the executor's runs, one per platform, as each pod runs
// them (for --dry-run; Solve runs them through the agent).
func (k KanikoPods) Commands(s *Spec) ([]Command, error) {
	spec, err := k.spec(s)
	if err != nil {
		return nil, err
	}
	var cmds []Command
	for _, b := range spec.Builds {
		cmds = append(cmds, append(Command{DefaultExecutor}, b.Args...))
	}
	return cmds, nil
}

// PlatformTag is where the pod of platform pushes its image: the
// build's tag with the platform appended ("r/crop:1.0-linux-arm64"), so
// that the registry keeps it while the index names it by digest.
func PlatformTag(image, platform string) (string, error) {
	ref, err := imageref.Split(image)
	if err != nil {
		return "", err
	}
	tag := ref.Tag
	if tag == "" {
		tag = "latest"
	}
	suffix := "-" + strings.ReplaceAll(platform, "/", "-")
	if len(tag)+len(suffix) > 128 {
		tag = tag[:128-len(suffix)]
	}
	return ref.Repo + ":" + tag + suffix, nil
}

// spec is the agent's spec of s: each platform's executor arguments, the
// context and Dockerfile where the pod holds them.
func (k KanikoPods) spec(s *Spec) (*agentapi.KanikoBuild, error) {
	if len(s.Platforms) == 0 {
		return nil, errors.New("the cluster's Kaniko pods are run per platform, and no platform was named")
	}
	if s.Tarball != "" {
		return nil, errors.New("the cluster's Kaniko pods push; tarballs are `cwlbuild tar`'s")
	}
	spec := k.Pods
	spec.Builds = nil
	for _, p := range s.Platforms {
		one := *s
		one.Platforms = []string{p}
		one.Context = agentapi.ContextDir
		one.DigestFile = "/dev/termination-log"
		img, err := PlatformTag(s.Image, p)
		if err != nil {
			return nil, err
		}
		one.Image = img
		args := one.kanikoArgs(DefaultExecutor)[1:]
		for i := range args {
			if args[i] == "--dockerfile" && i+1 < len(args) {
				args[i+1] = agentapi.DockerfilePath
			}
		}
		spec.Builds = append(spec.Builds, agentapi.KanikoPlatform{Platform: p, Args: args})
	}
	return &spec, nil
}

// Solve sends the context to the agent, which builds every platform in
// its pod at once, then pushes the index of their images under s.Image
// and writes its digest to s.DigestFile.
func (k KanikoPods) Solve(ctx context.Context, s *Spec, stdout, stderr io.Writer) error {
	spec, err := k.spec(s)
	if err != nil {
		return err
	}
	agent := k.Agent
	if agent == "" {
		if agent, err = agentapi.Find(" (it runs the Kaniko pods of a tool of several platforms)"); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "cwlbuild-kaniko-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	specFile := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specFile, data, 0o600); err != nil {
		return err
	}
	tarFile := filepath.Join(dir, "context.tar")
	if err := writeContextTar(tarFile, s.Context, s.dockerfilePath()); err != nil {
		return err
	}
	in, err := os.Open(tarFile)
	if err != nil {
		return err
	}
	defer in.Close()
	var out bytes.Buffer
	last := &lastLine{w: stderr}
	cmd := exec.CommandContext(ctx, agent, "kaniko", "--spec", specFile)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &out, last
	if err := cmd.Run(); err != nil {
		if why := strings.TrimPrefix(last.line, agentapi.Program+": "); why != "" {
			return errors.New(why)
		}
		return fmt.Errorf("%s kaniko: %v", agentapi.Program, err)
	}
	var images []remote.PlatformManifest
	dec := json.NewDecoder(&out)
	for {
		var r agentapi.KanikoResult
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("%s kaniko: reading its results: %v", agentapi.Program, err)
		}
		images = append(images, remote.PlatformManifest{Platform: r.Platform, Digest: r.Digest})
	}
	if len(images) != len(spec.Builds) {
		return fmt.Errorf("%s kaniko: %d results for %d platforms", agentapi.Program, len(images), len(spec.Builds))
	}
	digest, err := remote.PushIndex(ctx, s.Image, images, s.Insecure)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "kaniko: pushed the index %s@%s (%d platforms)\n", s.Image, digest, len(images))
	if s.DigestFile != "" {
		return atomicfile.Write(s.DigestFile, []byte(digest), 0o644)
	}
	return nil
}

// dockerfilePath is the Dockerfile on this machine.
func (b *Spec) dockerfilePath() string {
	if filepath.IsAbs(b.Dockerfile) {
		return b.Dockerfile
	}
	return filepath.Join(b.Context, b.Dockerfile)
}

// lastLine passes output on and remembers its last non-empty line: the
// agent's cause, when it fails.
type lastLine struct {
	w    io.Writer
	line string
	part []byte
}

func (l *lastLine) Write(p []byte) (int, error) {
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.part[:i])); line != "" {
			l.line = line
		}
		l.part = l.part[i+1:]
	}
	return l.w.Write(p)
}

// writeContextTar writes the build context as the pods receive it: every
// file of dir under context/ (symbolic links as links, never followed;
// Kaniko applies .dockerignore), and the Dockerfile as Dockerfile.
func writeContextTar(file, dir, dockerfile string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	tw := tar.NewWriter(bw)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		} else if !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil // sockets, devices: no build reads them
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(filepath.Join("context", rel))
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			return copyFile(tw, path)
		}
		return nil
	})
	if err == nil {
		err = addFile(tw, "Dockerfile", dockerfile)
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyFile copies a file's content into the tar stream.
func copyFile(w io.Writer, path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = io.Copy(w, in)
	return err
}

// addFile adds path's content to the stream as name.
func addFile(tw *tar.Writer, name, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = tw.Write(data)
	return err
}
