package wiring

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Reviewer asks the API server who a bearer token belongs to and whether
// that user may GET a non-resource path: TokenReview, then
// SubjectAccessReview (RBAC needs create on both).
type Reviewer interface {
	Authenticate(ctx context.Context, token string) (user authnv1.UserInfo, ok bool, err error)
	Authorize(ctx context.Context, user authnv1.UserInfo, verb, path string) (bool, error)
}

type apiReviewer struct{ cs kubernetes.Interface }

func (r apiReviewer) Authenticate(ctx context.Context, token string) (authnv1.UserInfo, bool, error) {
	tr, err := r.cs.AuthenticationV1().TokenReviews().Create(ctx,
		&authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return authnv1.UserInfo{}, false, err
	}
	return tr.Status.User, tr.Status.Authenticated, nil
}

func (r apiReviewer) Authorize(ctx context.Context, u authnv1.UserInfo, verb, path string) (bool, error) {
	extra := map[string]authzv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	sar, err := r.cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
		Spec: authzv1.SubjectAccessReviewSpec{
			User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
			NonResourceAttributes: &authzv1.NonResourceAttributes{Path: path, Verb: verb},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return sar.Status.Allowed, nil
}

// AuthFilter protects the metrics endpoint like MetalLB's (controller-
// runtime's WithAuthenticationAndAuthorization) without linking the
// generic API server library: a request needs a bearer token that a
// TokenReview accepts and a SubjectAccessReview allowing GET on the path.
// Decisions are cached for ttl, so scrapes do not each cost two API calls.
// No token or a rejected one gives 401, a forbidden user 403.
func AuthFilter(ttl time.Duration) func(*rest.Config, *http.Client) (metricsserver.Filter, error) {
	return func(cfg *rest.Config, hc *http.Client) (metricsserver.Filter, error) {
		cs, err := kubernetes.NewForConfigAndClient(cfg, hc)
		if err != nil {
			return nil, err
		}
		return NewAuthFilter(apiReviewer{cs}, ttl, time.Now), nil
	}
}

// NewAuthFilter builds the filter over any Reviewer (tests use a fake).
func NewAuthFilter(r Reviewer, ttl time.Duration, now func() time.Time) metricsserver.Filter {
	c := &decisionCache{ttl: ttl, now: now, m: map[string]decision{}}
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
			token = strings.TrimSpace(token)
			if !ok || token == "" {
				http.Error(w, "Unauthorized", http.StatusUnauthorized)
				return
			}
			key := req.Method + " " + req.URL.Path + " " + token
			d, hit := c.get(key)
			if !hit {
				d = review(req.Context(), r, token, verbOf(req.Method), req.URL.Path)
				if d.code != http.StatusInternalServerError {
					c.put(key, d)
				} else {
					log.Error(d.err, "metrics authentication failed")
				}
			}
			if d.code != http.StatusOK {
				http.Error(w, http.StatusText(d.code), d.code)
				return
			}
			next.ServeHTTP(w, req)
		}), nil
	}
}

type decision struct {
	code int
	err  error
	at   time.Time
}

func review(ctx context.Context, r Reviewer, token, verb, path string) decision {
	u, ok, err := r.Authenticate(ctx, token)
	switch {
	case err != nil:
		return decision{code: http.StatusInternalServerError, err: err}
	case !ok:
		return decision{code: http.StatusUnauthorized}
	}
	allowed, err := r.Authorize(ctx, u, verb, path)
	switch {
	case err != nil:
		return decision{code: http.StatusInternalServerError, err: err}
	case !allowed:
		return decision{code: http.StatusForbidden}
	}
	return decision{code: http.StatusOK}
}

func verbOf(method string) string {
	if method == http.MethodHead {
		return "get"
	}
	return strings.ToLower(method)
}

type decisionCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]decision
}

func (c *decisionCache) get(key string) (decision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[key]
	if !ok || c.now().Sub(d.at) > c.ttl {
		return decision{}, false
	}
	return d, true
}

func (c *decisionCache) put(key string, d decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 1000 { // bound memory against token spraying
		c.m = map[string]decision{}
	}
	d.at = c.now()
	c.m[key] = d
}
