package preflight

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/job"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Executor is the Kaniko executor's path in its image.
const Executor = "/kaniko/executor"

// Probe runs the checks that need the pod: the executor runs, each base
// image resolves, each repository takes a push. It writes one Result per
// line (JSON) to out, the pod's log the agent reads.
func Probe(ctx context.Context, s *api.Preflight, out io.Writer) {
	enc := json.NewEncoder(out)
	emit := func(r api.Result) { _ = enc.Encode(r) }
	emit(executor(ctx))
	for _, b := range s.Bases {
		emit(base(ctx, s, b))
	}
	for _, p := range s.Push {
		emit(push(ctx, s, p))
	}
}

func executor(ctx context.Context) api.Result {
	r := api.Result{Check: "executor image"}
	out, err := exec.CommandContext(ctx, Executor, "version").CombinedOutput()
	if err != nil {
		r.Detail = fmt.Sprintf("pulled, but %s version failed: %v: %s", Executor, err, job.LastLine(string(out)))
		return r
	}
	r.OK, r.Detail = true, "pulled, and "+Executor+" version runs ("+strings.Join(strings.Fields(job.LastLine(string(out))), " ")+")"
	return r
}

// options are name options for a reference: plain HTTP for the insecure
// registries, as Kaniko's --insecure-registry.
func options(s *api.Preflight, ref string) []name.Option {
	host := ref
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		host = ref[:i]
	}
	if slices.Contains(s.Insecure, host) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// base tries the references Kaniko would, in order, with the secret's
// login where it has one.
func base(ctx context.Context, s *api.Preflight, b api.Base) api.Result {
	r := api.Result{Check: fmt.Sprintf("base image of %s", b.Tool)}
	var failures []string
	for _, p := range b.Pull {
		ref, err := name.ParseReference(p, options(s, p)...)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		d, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", p, short(err)))
			continue
		}
		r.OK = true
		r.Detail = fmt.Sprintf("%s resolves", b.Image)
		if p != b.Image {
			r.Detail += " through " + p
		}
		r.Detail += " (" + d.Digest.String() + ")"
		return r
	}
	r.Detail = fmt.Sprintf("%s does not resolve: %s", b.Image, strings.Join(failures, "; "))
	return r
}

// push uploads one small random blob to the repository and deletes it: the
// login authenticates and may write there. A registry that refuses blob
// deletes keeps it (a few bytes no manifest names; its garbage collector
// removes them).
func push(ctx context.Context, s *api.Preflight, p api.Push) api.Result {
	r := api.Result{Check: "cache repository " + p.Repository}
	if p.Tool != "" {
		r.Check = fmt.Sprintf("push for %s to %s", p.Tool, p.Repository)
	}
	repo, err := name.NewRepository(p.Repository, options(s, p.Repository)...)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	auth, err := authn.DefaultKeychain.Resolve(repo.Registry)
	if err != nil {
		r.Detail = "reading the login: " + err.Error()
		return r
	}
	login := "the secret's login"
	if auth == authn.Anonymous {
		login = "no login (the secret has none for " + repo.RegistryStr() + ")"
	}
	tr, err := transport.NewWithContext(ctx, repo.Registry, auth, http.DefaultTransport, []string{repo.Scope(transport.PushScope)})
	if err != nil {
		r.Detail = fmt.Sprintf("%s: refused: %v", login, short(err))
		return r
	}
	client := &http.Client{Transport: tr}
	blob := make([]byte, 64)
	_, _ = rand.Read(blob)
	sum := sha256.Sum256(blob)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	base := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr()}
	if err := upload(ctx, client, base, repo.RepositoryStr(), digest, blob); err != nil {
		r.Detail = fmt.Sprintf("%s: may not push: %v", login, err)
		return r
	}
	r.OK = true
	r.Detail = login + " pushes"
	del := base
	del.Path = fmt.Sprintf("/v2/%s/blobs/%s", repo.RepositoryStr(), digest)
	if code, err := do(ctx, client, http.MethodDelete, del.String(), nil); err != nil || code != http.StatusAccepted {
		r.Detail += " (the test blob stays: the registry does not delete blobs)"
	} else {
		r.Detail += " (test blob deleted)"
	}
	return r
}

// upload is the registry API's monolithic blob upload: POST, then PUT with
// the digest.
func upload(ctx context.Context, client *http.Client, base url.URL, repo, digest string, blob []byte) error {
	start := base
	start.Path = "/v2/" + repo + "/blobs/uploads/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, start.String(), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return short(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return statusError(resp)
	}
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("upload started without a location: %w", err)
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	code, err := do(ctx, client, http.MethodPut, loc.String(), blob)
	if err != nil {
		return err
	}
	if code != http.StatusCreated {
		return fmt.Errorf("finishing the upload: HTTP %d", code)
	}
	return nil
}

func do(ctx context.Context, client *http.Client, method, u string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client.Do(req)
	if err != nil {
		return 0, short(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func statusError(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return errors.New("HTTP 401: the login was refused")
	case http.StatusForbidden:
		return errors.New("HTTP 403: the login may not write to this repository")
	}
	return fmt.Errorf("HTTP %d", resp.StatusCode)
}

// short is a registry error without go-containerregistry's request dump.
func short(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized:
			return errors.New("HTTP 401: the login was refused")
		case http.StatusForbidden:
			return errors.New("HTTP 403: not allowed")
		case http.StatusNotFound:
			return errors.New("HTTP 404: not found")
		}
		return fmt.Errorf("HTTP %d", te.StatusCode)
	}
	return err
}
