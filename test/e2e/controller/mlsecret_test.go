package controller

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ferrolb/ferrolb/test/cluster"
)

func TestMemberlistSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key := types.NamespacedName{Namespace: cluster.Namespace, Name: "memberlist"}
	// The Deployment the Secret is owned by, as in a real installation
	// (nothing runs it here).
	labels := map[string]string{"app": "metallb", "component": "controller"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: cluster.Namespace, Name: "controller"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "example.invalid/controller"}}},
			},
		},
	}
	if err := e.c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.c.Delete(context.Background(), dep)
		_ = e.c.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}})
	})

	args := []string{"--ml-secret-name", "memberlist", "--deployment", "controller", "--leader-election-id", "e2e-memberlist"}
	first := e.start("first", args...)
	var sec corev1.Secret
	e.eventually(30*time.Second, "the memberlist Secret", func() (bool, string) {
		err := e.c.Get(ctx, key, &sec)
		return err == nil, errString(err)
	})
	if len(sec.Data) != 1 {
		t.Errorf("Secret keys %v, want only secretkey", keys(sec.Data))
	}
	val := string(sec.Data["secretkey"])
	raw, err := base64.RawStdEncoding.DecodeString(val)
	if err != nil || len(raw) != 16 || len(val) != 22 || strings.Contains(val, "=") {
		t.Errorf("secretkey = %q (%d chars): want 16 bytes in unpadded standard base64 (22 chars); decode error %v, %d bytes", val, len(val), err, len(raw))
	}
	if got := sec.OwnerReferences; len(got) != 1 || got[0].Kind != "Deployment" || got[0].APIVersion != "apps/v1" ||
		got[0].Name != "controller" || got[0].UID != dep.UID {
		t.Errorf("owner references %+v, want the Deployment controller (uid %s)", got, dep.UID)
	}

	// A restart finds the Secret and leaves it alone.
	e.stop(first)
	second := e.start("second", args...)
	e.eventually(30*time.Second, "the restarted controller to lead", func() (bool, string) {
		return logContains(second, "successfully acquired lease "+cluster.Namespace+"/e2e-memberlist"), "not leading yet"
	})
	// The Secret is ensured when leadership starts; give it ample time to
	// (wrongly) replace the Secret before looking.
	time.Sleep(3 * time.Second)
	var again corev1.Secret
	if err := e.c.Get(ctx, key, &again); err != nil {
		t.Fatal(err)
	}
	if string(again.Data["secretkey"]) != val || again.UID != sec.UID || again.ResourceVersion != sec.ResourceVersion {
		t.Errorf("restart changed the Secret: secretkey %q -> %q, uid %s -> %s, resourceVersion %s -> %s",
			val, again.Data["secretkey"], sec.UID, again.UID, sec.ResourceVersion, again.ResourceVersion)
	}
	for _, p := range []*cluster.Proc{first, second} {
		if logContains(p, "memberlist secret") {
			t.Errorf("%s reports a memberlist secret problem:\n%s", p.Name, p.Tail(20))
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	if apierrors.IsNotFound(err) {
		return "not found"
	}
	return err.Error()
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
