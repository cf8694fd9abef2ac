package benchkit

import (
	"os"
	"os/exec"
	"testing"
)

func TestCPUSummary(t *testing.T) {
	before := CPUSample{
		10: {name: "kube-apiserver", ticks: 100},
		11: {name: "speaker", ticks: 50},
		12: {name: "speaker", ticks: 50},
		13: {name: "etcd", ticks: 7},
	}
	after := CPUSample{
		10: {name: "kube-apiserver", ticks: 350}, // +2.5 s
		11: {name: "speaker", ticks: 150},        // +1.0 s
		12: {name: "speaker", ticks: 250},        // +2.0 s
		13: {name: "etcd", ticks: 7},             // idle: left out
		14: {name: "controller", ticks: 30},      // started meanwhile: +0.3 s
	}
	got := CPUSummary(before, after)
	// Speakers listed in PID order is not guaranteed: accept either.
	want1 := "speaker ×2 3.0 s (1.0, 2.0), kube-apiserver 2.5 s, controller 0.3 s"
	want2 := "speaker ×2 3.0 s (2.0, 1.0), kube-apiserver 2.5 s, controller 0.3 s"
	if got != want1 && got != want2 {
		t.Errorf("cpuSummary = %q; want %q", got, want1)
	}
}

func TestSampleChildrenIncludesThisProgram(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	s := SampleChildren()
	me, ok := s[os.Getpid()]
	if !ok || me.name != "bench" {
		t.Errorf("this program: %+v, present %v; want it named bench", me, ok)
	}
	if c, ok := s[cmd.Process.Pid]; !ok || c.name != "sleep" {
		t.Errorf("child: %+v, present %v; want sleep", c, ok)
	}
}
