package job

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Account reads a service account's pull secrets ("" names the namespace's
// default account, in the kubeconfig's namespace when ns is "").
func (c *Client) Account(ctx context.Context, ns, name string) (*api.Account, error) {
	if ns == "" {
		ns = c.Namespace
	}
	if name == "" {
		name = "default"
	}
	a := &api.Account{Namespace: ns, Name: name}
	sa, err := c.api.CoreV1().ServiceAccounts(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return a, nil
	}
	if err != nil {
		return nil, fmt.Errorf("service account %s/%s: %w", ns, name, err)
	}
	a.Exists = true
	for _, ref := range sa.ImagePullSecrets {
		ps := api.PullSecret{Name: ref.Name}
		secret, err := c.api.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case err != nil:
			ps.Unknown = err.Error()
		default:
			ps.Registries, err = secretRegistries(secret)
			if err != nil {
				ps.Unknown = err.Error()
			}
		}
		a.Secrets = append(a.Secrets, ps)
	}
	return a, nil
}

// secretRegistries lists the registry hosts a pull secret has logins for.
func secretRegistries(s *corev1.Secret) ([]string, error) {
	var auths map[string]json.RawMessage
	switch s.Type {
	case corev1.SecretTypeDockerConfigJson:
		var cfg struct {
			Auths map[string]json.RawMessage `json:"auths"`
		}
		if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg); err != nil {
			return nil, fmt.Errorf("secret %s: %v", s.Name, err)
		}
		auths = cfg.Auths
	case corev1.SecretTypeDockercfg:
		if err := json.Unmarshal(s.Data[corev1.DockerConfigKey], &auths); err != nil {
			return nil, fmt.Errorf("secret %s: %v", s.Name, err)
		}
	default:
		return nil, fmt.Errorf("secret %s is of type %s, not a Docker config", s.Name, s.Type)
	}
	var out []string
	for k := range auths {
		out = append(out, registryHost(k))
	}
	sort.Strings(out)
	return out, nil
}

// registryHost is the host of an auths key ("https://index.docker.io/v1/"
// is Docker Hub's).
func registryHost(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	key, _, _ = strings.Cut(key, "/")
	if key == "index.docker.io" || key == "registry-1.docker.io" {
		return "docker.io"
	}
	return key
}
