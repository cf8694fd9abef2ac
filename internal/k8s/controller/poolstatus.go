package controller

import (
	"context"
	"encoding/json"
	"log/slog"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/internal/core/ipam"
)

// poolStatusWriter publishes each pool's assigned and available counts in
// IPAddressPool.status, writing only what changed. The int64 counts of
// MetalLB's schema saturate at the largest int64 (a /64 has 2^64
// addresses); availableIPv6Exact carries the exact IPv6 count.
type poolStatusWriter struct {
	client    client.Client
	namespace string
	log       *slog.Logger
	written   map[string]v1beta1.IPAddressPoolStatus
}

func statusOf(st ipam.PoolStats) v1beta1.IPAddressPoolStatus {
	out := v1beta1.IPAddressPoolStatus{
		AssignedIPv4:  int64(st.InUseV4),
		AssignedIPv6:  int64(st.InUseV6),
		AvailableIPv4: st.AvailableV4().Int64(),
		AvailableIPv6: st.AvailableV6().Int64(),
	}
	if !st.CapacityV6.IsZero() {
		out.AvailableIPv6Exact = st.AvailableV6().String()
	}
	return out
}

func (w *poolStatusWriter) write(ctx context.Context, stats []ipam.PoolStats) {
	if w.written == nil {
		w.written = map[string]v1beta1.IPAddressPoolStatus{}
	}
	seen := map[string]bool{}
	for _, st := range stats {
		seen[st.Name] = true
		want := statusOf(st)
		if old, ok := w.written[st.Name]; ok && old == want {
			continue
		}
		patch, err := json.Marshal(map[string]any{"status": want})
		if err != nil {
			continue
		}
		pool := &v1beta1.IPAddressPool{}
		pool.Namespace, pool.Name = w.namespace, st.Name
		err = w.client.Status().Patch(ctx, pool, client.RawPatch(types.MergePatchType, patch))
		if err != nil {
			w.log.Warn("cannot write pool status", "pool", st.Name, "error", err)
			delete(w.written, st.Name)
			continue
		}
		w.written[st.Name] = want
	}
	for name := range w.written {
		if !seen[name] {
			delete(w.written, name)
		}
	}
}
