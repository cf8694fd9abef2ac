package kubeapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
)

// crdTimeout bounds the wait for one installed CRD to be served.
const crdTimeout = 30 * time.Second

// InstallCRDs creates or updates every CustomResourceDefinition found in the
// *.yaml files of dir, then waits until each is Established and its resources
// are listed by discovery. A directory without any CRD is an error.
func InstallCRDs(ctx context.Context, cfg *rest.Config, dir string) error {
	crds, err := readCRDs(dir)
	if err != nil {
		return err
	}
	cs, err := apiextensions.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubeapi: %w", err)
	}
	for _, crd := range crds {
		if err := apply(ctx, cs, crd); err != nil {
			return err
		}
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("kubeapi: %w", err)
	}
	for _, crd := range crds {
		if err := waitServed(ctx, cs, disco, crd); err != nil {
			return err
		}
	}
	return nil
}

// readCRDs decodes the YAML documents of dir/*.yaml, in file-name order.
func readCRDs(dir string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("kubeapi: %w", err)
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("kubeapi: %w", err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			err := dec.Decode(crd)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("kubeapi: %s: %w", file, err)
			}
			if crd.Kind == "" && crd.Name == "" {
				continue // empty document
			}
			if crd.Kind != "CustomResourceDefinition" || crd.Name == "" {
				return nil, fmt.Errorf("kubeapi: %s: a document of kind %q named %q is not a CRD", file, crd.Kind, crd.Name)
			}
			crds = append(crds, crd)
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("kubeapi: no CustomResourceDefinition in %s/*.yaml", dir)
	}
	return crds, nil
}

// apply creates crd, or replaces the spec of the existing one.
func apply(ctx context.Context, cs apiextensions.Interface, crd *apiextensionsv1.CustomResourceDefinition) error {
	client := cs.ApiextensionsV1().CustomResourceDefinitions()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current, err := client.Get(ctx, crd.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = client.Create(ctx, crd, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		update := crd.DeepCopy()
		update.ResourceVersion = current.ResourceVersion
		_, err = client.Update(ctx, update, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("kubeapi: apply CRD %s: %w", crd.Name, err)
	}
	return nil
}

// waitServed waits until crd is Established and discovery lists its plural
// for every served version.
func waitServed(ctx context.Context, cs apiextensions.Interface, disco discovery.DiscoveryInterface, crd *apiextensionsv1.CustomResourceDefinition) error {
	ctx, cancel := context.WithTimeout(ctx, crdTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = served(ctx, cs, disco, crd); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kubeapi: CRD %s not served: %w (last: %v)", crd.Name, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func served(ctx context.Context, cs apiextensions.Interface, disco discovery.DiscoveryInterface, crd *apiextensionsv1.CustomResourceDefinition) error {
	current, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	established := slices.ContainsFunc(current.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool {
		return c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue
	})
	if !established {
		return errors.New("not Established yet")
	}
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		gv := crd.Spec.Group + "/" + v.Name
		list, err := disco.ServerResourcesForGroupVersion(gv)
		if err != nil {
			return fmt.Errorf("discovery of %s: %w", gv, err)
		}
		if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == crd.Spec.Names.Plural }) {
			return fmt.Errorf("discovery of %s does not list %s yet", gv, crd.Spec.Names.Plural)
		}
	}
	return nil
}
