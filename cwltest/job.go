package cwltest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/agentapi"
	"github.com/eoap/cwlbuild/internal/cliapp"
	"github.com/eoap/cwlbuild/internal/genfile"
	"github.com/eoap/cwlbuild/internal/logtext"
)

// Cluster modes: Calrissian in this pod (the seed's way: a code-server or
// Jupyter pod with Calrissian installed), or a Job made through the API
// from outside the cluster (cwlbuild-calrissian).
const (
	ModeAuto = "auto"
	ModePod  = "pod"
	ModeJob  = "job"
)

// ChooseMode resolves ModeAuto: pod when this process runs in a pod (a
// service account is mounted and the API's service address is set) and
// calrissian is installed; a Job otherwise.
func ChooseMode(mode string, getenv func(string) string) string {
	if mode != "" && mode != ModeAuto {
		return mode
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	_, token := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token")
	_, calrissian := exec.LookPath("calrissian")
	if getenv("KUBERNETES_SERVICE_HOST") != "" && token == nil && calrissian == nil {
		return ModePod
	}
	return ModeJob
}

// inputDir is where, in the run directory, staged inputs go: the CWL
// files at their paths in the package, the params' files and directories,
// Calrissian's pod labels. Not copied back.
const inputDir = ".input"

// Job is the part of a Run only a Job has.
type Job struct {
	Spec agentapi.Job
	// SpecFile is where the spec is written, in the volume.
	SpecFile string
	// RunDir is the run's directory in the cluster's volume.
	RunDir string
	// Stage lists the local files and directories copied in, by their
	// path relative to RunDir.
	Stage []staged
}

type staged struct {
	remote string // relative to the run directory, slash-separated
	local  string // "" for data, or a directory to create when data is nil
	data   []byte
}

// nonName are the characters a Kubernetes name cannot have.
var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

// newRunName makes a run's name: the test's id, lower-cased and cut so
// that the name stays a Kubernetes label value (63 characters), and five
// random characters, so runs of one test never collide.
func newRunName(id string) string {
	base := strings.Trim(nonName.ReplaceAllString(strings.ToLower(id), "-"), "-")
	if len(base) > 40 {
		base = strings.TrimRight(base[:40], "-")
	}
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 5)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return "cwlbuild-" + base + "-" + string(b)
}

// planJob fills r for a Job: Calrissian's argv with every path in the
// volume made the cluster's, the files to stage, what to copy back.
func planJob(p *builder.Plan, c *builder.TestPlan, r *Run, opts Options) error {
	if c.Job.Image == "" && !opts.DryRun {
		return fmt.Errorf("%s: test %q runs as a Calrissian Job (from outside the cluster) and no Calrissian image is set: set [build.calrissian] image, or the test's execution.cluster.calrissian_image (or run it in a pod: --cluster-mode pod)", p.File, c.DisplayName())
	}
	name := newRunName(c.ID)
	runDir := agentapi.RunDir(name)
	j := &Job{RunDir: runDir}
	// inVolume maps a path of the test's volume to the run directory.
	inVolume := func(local string) (string, error) {
		rel, err := filepath.Rel(r.Volume, local)
		if err != nil || !filepath.IsLocal(rel) {
			return "", fmt.Errorf("%s is outside the test's volume %s: a Job cannot write it", local, r.Volume)
		}
		return filepath.ToSlash(rel), nil
	}
	remote := func(local string) (string, error) {
		rel, err := inVolume(local)
		return runDir + "/" + rel, err
	}
	// Directories Calrissian expects to exist (0.14.0 does not create the
	// tool logs' one), and the parents of the files it writes.
	dirs := []string{filepath.Dir(r.Stdout), filepath.Dir(r.Stderr), r.Outdir, strings.TrimSuffix(c.TmpOutdirPrefix, string(filepath.Separator))}
	if c.UsageReport != "" {
		dirs = append(dirs, filepath.Dir(c.UsageReport))
	}
	if c.ToolLogsBasepath != "" {
		dirs = append(dirs, c.ToolLogsBasepath)
	}
	for _, d := range dirs {
		if filepath.Clean(d) == filepath.Clean(r.Volume) {
			continue
		}
		rel, err := inVolume(d)
		if err != nil {
			return err
		}
		j.Stage = append(j.Stage, staged{remote: rel})
	}

	// The CWL files, at their paths in the package, so references between
	// them resolve as they do here.
	files, err := cwlpatch.Files(p)
	if err != nil {
		return err
	}
	for _, f := range files {
		rel, err := filepath.Rel(p.Dir, f)
		if err != nil || !filepath.IsLocal(rel) {
			return fmt.Errorf("%s is outside the package: a Job cannot stage it", f)
		}
		j.Stage = append(j.Stage, staged{remote: inputDir + "/" + filepath.ToSlash(rel), local: f})
	}
	refFile, id := builder.SplitProcessRef(c.Ref)
	relRef, err := filepath.Rel(p.Dir, p.Abs(refFile))
	if err != nil || !filepath.IsLocal(relRef) {
		return fmt.Errorf("%s is outside the package: a Job cannot stage it", refFile)
	}
	ref := runDir + "/" + inputDir + "/" + filepath.ToSlash(relRef)
	if id != "" {
		ref += "#" + id
	}

	// The params, their files staged and their paths made the cluster's.
	n := 0
	params, err := paramsYAML(p, c.Params, func(local string) (string, error) {
		// What is staged leaves this machine: nothing outside the package
		// (a hostile params table naming ~/.docker/config.json).
		if err := p.Inside(local); err != nil {
			return "", fmt.Errorf("%s: %v", local, err)
		}
		if st, err := os.Stat(local); opts.DryRun {
			// A dry run stages nothing.
		} else if err != nil {
			return "", err
		} else if !st.Mode().IsRegular() && !st.IsDir() {
			return "", fmt.Errorf("%s is not a file or directory", local)
		}
		n++
		rel := fmt.Sprintf("%s/params/%d/%s", inputDir, n, filepath.Base(local))
		j.Stage = append(j.Stage, staged{remote: rel, local: local})
		return runDir + "/" + rel, nil
	})
	if err != nil {
		return p.Errorf(c.Key+".params", "%s.params: %v", c.Key, err)
	}
	r.ParamsYAML = params
	paramsRel, err := inVolume(r.Params)
	if err != nil {
		return err
	}
	j.Stage = append(j.Stage, staged{remote: paramsRel, data: params})
	labels := fmt.Sprintf("cwlbuild.eoap.dev/run: %s\ncwlbuild.eoap.dev/role: tool\n", name)
	j.Stage = append(j.Stage, staged{remote: inputDir + "/pod-labels.yaml", data: []byte(labels)})

	args, err := calrissianArgs(p, c, r, opts, remote)
	if err != nil {
		return err
	}
	args = append(args, "--pod-labels", runDir+"/"+inputDir+"/pod-labels.yaml", ref, runDir+"/"+paramsRel)

	// What comes back: every file Calrissian writes but its scratch space.
	var fetch []string
	for _, f := range []string{r.Stdout, r.Stderr, c.UsageReport, c.ToolLogsBasepath, r.Outdir} {
		if f == "" {
			continue
		}
		rel, err := inVolume(f)
		if err != nil {
			return err
		}
		fetch = append(fetch, rel)
	}
	logRel, err := inVolume(r.logFile())
	if err != nil {
		return err
	}
	j.Spec = agentapi.Job{
		Name: name, Namespace: c.Job.Namespace, Image: c.Job.Image, InitImage: c.Job.InitImage,
		ServiceAccount: c.PodServiceAccount, Claim: c.Job.Claim, StorageClass: c.Job.StorageClass, VolumeSize: c.Job.VolumeSize,
		StartTimeout: agentapi.Duration(c.Job.StartTimeout), Timeout: agentapi.Duration(c.Job.Timeout),
		Args: args, Fetch: fetch, Log: logRel, Keep: opts.Keep, ShouldFail: c.ShouldFail,
	}
	j.SpecFile = strings.TrimSuffix(r.Params, ".params.yaml") + ".job.json"
	r.Job = j
	r.Argv = []string{agentapi.Program, "run", "--spec", j.SpecFile}
	return nil
}

// stageTar writes the staged files as a tar stream, names relative to the
// run directory. Local directories go whole; a symlink in one is refused.
func (j *Job) stageTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	var mkdir func(string) error
	mkdir = func(name string) error {
		if name == "." || name == "" || dirs[name] {
			return nil
		}
		if err := mkdir(path.Dir(name)); err != nil {
			return err
		}
		dirs[name] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o777, Format: tar.FormatPAX})
	}
	file := func(name string, size int64, mode fs.FileMode, r io.Reader) error {
		if err := mkdir(path.Dir(name)); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: int64(mode.Perm() | 0o444), Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	for _, s := range j.Stage {
		var err error
		switch {
		case s.local == "" && s.data == nil:
			err = mkdir(s.remote)
		case s.local == "":
			err = file(s.remote, int64(len(s.data)), 0o644, bytes.NewReader(s.data))
		default:
			err = filepath.WalkDir(s.local, func(p string, e fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, err := filepath.Rel(s.local, p)
				if err != nil {
					return err
				}
				name := path.Join(s.remote, filepath.ToSlash(rel))
				switch {
				case e.IsDir():
					return mkdir(name)
				case e.Type().IsRegular():
					f, err := os.Open(p)
					if err != nil {
						return err
					}
					defer f.Close()
					st, err := f.Stat()
					if err != nil {
						return err
					}
					return file(name, st.Size(), st.Mode(), f)
				}
				return fmt.Errorf("%s: a symlink or special file cannot be staged", p)
			})
		}
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// SpecJSON is the spec the agent reads, as written to SpecFile.
func (j *Job) SpecJSON() []byte {
	data, _ := json.MarshalIndent(j.Spec, "", "  ")
	return append(data, '\n')
}

// executeJob runs the agent: the stage tar on its stdin, its results
// unpacked into the volume, its progress lines passed on.
func executeJob(ctx context.Context, r *Run, progress io.Writer) error {
	j := r.Job
	root := r.root()
	if err := genfile.WriteAll(ctx, []genfile.File{{Root: root, Path: j.SpecFile, Data: j.SpecJSON()}}); err != nil {
		return err
	}
	prog, err := agentapi.Find("")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, prog, r.Argv[1:]...)
	cmd.Dir = r.Dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cliapp.PassSignals(ctx, cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	stageErr := make(chan error, 1)
	go func() {
		err := j.stageTar(stdin)
		stdin.Close()
		stageErr <- err
	}()
	// Progress lines pass on as they come; the agent's last lines (its
	// error) are kept for the error.
	var errLines []string
	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		inError := false
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, agentapi.Program+": ") {
				inError = true
				line = strings.TrimPrefix(line, agentapi.Program+": ")
			}
			if inError {
				errLines = append(errLines, line)
				continue
			}
			fmt.Fprintln(progress, logtext.Line(line))
		}
	}()
	stdoutRel, _ := filepath.Rel(r.Volume, r.Stdout)
	skipped, unpackErr := unpackResults(stdout, root, r.Volume, j.RunDir, filepath.ToSlash(stdoutRel))
	io.Copy(io.Discard, stdout)
	<-errDone
	waitErr := cmd.Wait()
	if err := <-stageErr; err != nil && waitErr == nil {
		return fmt.Errorf("staging: %w", err)
	}
	if waitErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s stopped: %v", agentapi.Program, context.Cause(ctx))
		}
		if len(errLines) > 0 {
			return errors.New(strings.Join(errLines, "\n"))
		}
		return fmt.Errorf("%s: %v", agentapi.Program, waitErr)
	}
	if unpackErr != nil {
		return fmt.Errorf("copying the results back: %w", unpackErr)
	}
	if skipped > 0 {
		fmt.Fprintf(progress, "    %d results were links or special files, left out\n", skipped)
	}
	return nil
}

// unpackResults writes the results stream under dir: files the tools
// wrote, as hostile as their images. Only regular files and directories
// are written, each through genfile (no symlink on the way, no name
// leaving dir); the rest is counted and skipped. The output object
// (stdoutRel) names dir where it named the run directory.
func unpackResults(in io.Reader, root, dir, runDir, stdoutRel string) (skipped int, err error) {
	tr := tar.NewReader(in)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return skipped, nil
		}
		if err != nil {
			return skipped, err
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if !filepath.IsLocal(filepath.FromSlash(name)) {
			return skipped, fmt.Errorf("%q leaves the test's volume", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := genfile.MkdirAll(root, target); err != nil {
				return skipped, err
			}
		case tar.TypeReg:
			if err := genfile.MkdirAll(root, filepath.Dir(target)); err != nil {
				return skipped, err
			}
			f, err := genfile.Create(root, target)
			if err != nil {
				return skipped, err
			}
			if name == stdoutRel {
				var data []byte
				if data, err = io.ReadAll(tr); err == nil {
					_, err = f.Write(bytes.ReplaceAll(data, []byte(runDir+"/"), []byte(filepath.ToSlash(dir)+"/")))
				}
			} else {
				_, err = io.Copy(f, tr)
			}
			if err = errors.Join(err, f.Close()); err != nil {
				return skipped, err
			}
		default:
			skipped++
		}
	}
}
