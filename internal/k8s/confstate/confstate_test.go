package confstate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/test/cluster"
	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func TestMain(m *testing.M) { kubeapi.Main(m) }

func TestResultDerivation(t *testing.T) {
	p := New(nil, nil, SpeakerOptions("ns", "n1"))
	if st := p.Status(); st.Result != v1beta1.ConfigurationUnknown || len(st.Conditions) != 0 {
		t.Fatalf("no conditions: %+v", st)
	}
	p.Set(metav1.Condition{Type: TypeBGPSessions, Status: metav1.ConditionFalse, Reason: ReasonSessionsDown, Message: "p1 192.0.2.1:179 Active"})
	if st := p.Status(); st.Result != v1beta1.ConfigurationValid || st.ErrorSummary != "" {
		t.Fatalf("a session down is not a configuration error: %+v", st)
	}
	p.SetConfigErrors(TypeSpeakerValid, []string{"a is bad", "b is bad"})
	st := p.Status()
	if st.Result != v1beta1.ConfigurationInvalid || st.ErrorSummary != "a is bad\nb is bad" {
		t.Fatalf("errors: %+v", st)
	}
	if len(st.Conditions) != 2 || st.Conditions[0].Type != TypeBGPSessions || st.Conditions[1].Type != TypeSpeakerValid {
		t.Fatalf("conditions not sorted by type: %+v", st.Conditions)
	}
	p.SetConfigErrors(TypeSpeakerValid, nil)
	if st := p.Status(); st.Result != v1beta1.ConfigurationValid {
		t.Fatalf("fixed: %+v", st)
	}
}

func TestTransitionTimeMovesOnlyWithStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := SpeakerOptions("ns", "n1")
	o.Now = func() time.Time { return now }
	p := New(nil, nil, o)
	p.SetConfigErrors(TypeSpeakerValid, []string{"x"})
	now = now.Add(time.Hour)
	p.SetConfigErrors(TypeSpeakerValid, []string{"y"})
	if got := p.Status().Conditions[0].LastTransitionTime.Time; !got.Equal(now.Add(-time.Hour)) {
		t.Fatalf("message change moved the transition time to %v", got)
	}
	p.SetConfigErrors(TypeSpeakerValid, nil)
	if got := p.Status().Conditions[0].LastTransitionTime.Time; !got.Equal(now) {
		t.Fatalf("status change did not move the transition time: %v", got)
	}
}

func TestWritesAndSelfHeals(t *testing.T) {
	_, c := cluster.SharedClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ns = "confstate-test"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "speaker-abc"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "s", Image: "x"}}}}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}

	o := SpeakerOptions(ns, "node-1")
	o.Resync = 100 * time.Millisecond
	p := New(c, c, o)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Start(runCtx) }()
	defer func() {
		stop()
		<-done
	}()

	key := types.NamespacedName{Namespace: ns, Name: "speaker-node-1"}
	get := func() (*v1beta1.ConfigurationState, error) {
		var st v1beta1.ConfigurationState
		err := c.Get(ctx, key, &st)
		return &st, err
	}
	wait := func(what string, ok func(*v1beta1.ConfigurationState) bool) {
		t.Helper()
		var last string
		for i := 0; i < 100; i++ {
			st, err := get()
			if err == nil && ok(st) {
				return
			}
			last = fmt.Sprintf("%v %+v %+v", err, st.ObjectMeta, st.Status)
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: not reached in 5 s; last: %s", what, last)
	}

	// Nothing is written before a reconciler reports.
	time.Sleep(300 * time.Millisecond)
	if _, err := get(); !apierrors.IsNotFound(err) {
		t.Fatalf("object written without conditions: %v", err)
	}

	p.SetConfigErrors(TypeSpeakerValid, []string{`IPAddressPool "a": overlaps "b"`})
	wait("invalid", func(st *v1beta1.ConfigurationState) bool {
		return st.Status.Result == v1beta1.ConfigurationInvalid && strings.Contains(st.Status.ErrorSummary, "overlaps") &&
			st.Labels[LabelComponent] == "speaker" && st.Labels[LabelNode] == "node-1"
	})
	p.SetOwner(&metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID})
	p.SetConfigErrors(TypeSpeakerValid, nil)
	wait("valid with owner", func(st *v1beta1.ConfigurationState) bool {
		return st.Status.Result == v1beta1.ConfigurationValid && st.Status.ErrorSummary == "" &&
			len(st.OwnerReferences) == 1 && st.OwnerReferences[0].UID == pod.UID
	})

	st, _ := get()
	if err := c.Delete(ctx, st); err != nil {
		t.Fatal(err)
	}
	wait("re-created after deletion", func(n *v1beta1.ConfigurationState) bool {
		return n.UID != st.UID && n.Status.Result == v1beta1.ConfigurationValid
	})

	// Somebody else's edit of the status is put right at the next check.
	n, _ := get()
	n.Status.Result = v1beta1.ConfigurationInvalid
	n.Status.ErrorSummary = "tampered"
	if err := c.Status().Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	wait("tampered status restored", func(n *v1beta1.ConfigurationState) bool {
		return n.Status.Result == v1beta1.ConfigurationValid && n.Status.ErrorSummary == ""
	})
}
