package wiring

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
)

type fakeReviewer struct {
	users   map[string]string // token -> user
	allowed map[string]bool   // user -> may GET /metrics
	calls   int
	fail    bool
}

func (f *fakeReviewer) Authenticate(_ context.Context, token string) (authnv1.UserInfo, bool, error) {
	f.calls++
	if f.fail {
		return authnv1.UserInfo{}, false, errors.New("api down")
	}
	u, ok := f.users[token]
	return authnv1.UserInfo{Username: u}, ok, nil
}

func (f *fakeReviewer) Authorize(_ context.Context, u authnv1.UserInfo, verb, path string) (bool, error) {
	return verb == "get" && path == "/metrics" && f.allowed[u.Username], nil
}

func TestAuthFilter(t *testing.T) {
	now := time.Unix(1000, 0)
	rev := &fakeReviewer{users: map[string]string{"good": "prometheus", "meh": "nobody"}, allowed: map[string]bool{"prometheus": true}}
	filter := NewAuthFilter(rev, 10*time.Second, func() time.Time { return now })
	h, err := filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("metrics")) }))
	if err != nil {
		t.Fatal(err)
	}
	get := func(token string) int {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"bogus", 401}, {"meh", 403}, {"good", 200}} {
		if got := get(tc.token); got != tc.want {
			t.Errorf("token %q: %d, want %d", tc.token, got, tc.want)
		}
	}
	calls := rev.calls
	if get("good") != 200 || rev.calls != calls {
		t.Errorf("cached decision not used: %d calls, want %d", rev.calls, calls)
	}
	now = now.Add(11 * time.Second)
	rev.fail = true
	if got := get("good"); got != http.StatusInternalServerError {
		t.Errorf("API failure: %d, want 500", got)
	}
	rev.fail = false
	if got := get("good"); got != 200 {
		t.Errorf("after recovery: %d (errors must not be cached)", got)
	}
}
