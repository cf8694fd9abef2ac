package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// K8sClient counts reconciles and tracks the configuration state; both
// binaries export it.
type K8sClient struct {
	updates      prometheus.Counter
	updateErrors prometheus.Counter
	configLoaded prometheus.Gauge
	configStale  prometheus.Gauge
}

// NewK8sClient creates and registers the metallb_k8s_client_* metrics.
func NewK8sClient(reg prometheus.Registerer) *K8sClient {
	m := &K8sClient{
		updates: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "metallb", Subsystem: "k8s_client", Name: "updates_total",
			Help: "Number of k8s object updates that have been processed.",
		}),
		updateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "metallb", Subsystem: "k8s_client", Name: "update_errors_total",
			Help: "Number of k8s object updates that failed for some reason.",
		}),
		configLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "metallb", Subsystem: "k8s_client", Name: "config_loaded_bool",
			Help: "1 if the MetalLB configuration was successfully loaded at least once.",
		}),
		configStale: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "metallb", Subsystem: "k8s_client", Name: "config_stale_bool",
			Help: "1 if running on a stale configuration, because the latest config failed to load.",
		}),
	}
	reg.MustRegister(m.updates, m.updateErrors, m.configLoaded, m.configStale)
	return m
}

// ServiceReconciled counts one processed update, and its failure.
func (m *K8sClient) ServiceReconciled(err error) {
	m.updates.Inc()
	if err != nil {
		m.updateErrors.Inc()
	}
}

// ConfigLoaded records that a configuration is in force; stale is true
// when the latest configuration had errors and older objects are used.
func (m *K8sClient) ConfigLoaded(stale bool) {
	m.configLoaded.Set(1)
	if stale {
		m.configStale.Set(1)
	} else {
		m.configStale.Set(0)
	}
}

// PoolUsage is one pool's figures for the allocator gauges.
type PoolUsage struct {
	Total, TotalV4, TotalV6 float64
	InUse, InUseV4, InUseV6 float64
	Services                float64
}

// Allocator exports the metallb_allocator_* gauges.
type Allocator struct {
	total, totalV4, totalV6 *prometheus.GaugeVec
	inUse, inUseV4, inUseV6 *prometheus.GaugeVec
	services                *prometheus.GaugeVec
}

// NewAllocator creates and registers the allocator gauges.
func NewAllocator(reg prometheus.Registerer) *Allocator {
	g := func(name, help string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "metallb", Subsystem: "allocator", Name: name, Help: help,
		}, []string{"pool"})
		reg.MustRegister(v)
		return v
	}
	return &Allocator{
		total:    g("addresses_total", "Number of usable IP addresses, per pool"),
		totalV4:  g("ipv4_addresses_total", "Number of usable IPv4 addresses, per pool"),
		totalV6:  g("ipv6_addresses_total", "Number of usable IPv6 addresses, per pool"),
		inUse:    g("addresses_in_use_total", "Number of IP addresses in use, per pool"),
		inUseV4:  g("ipv4_addresses_in_use_total", "Number of IPv4 addresses in use, per pool"),
		inUseV6:  g("ipv6_addresses_in_use_total", "Number of IPv6 addresses in use, per pool"),
		services: g("services_allocated_total", "Number of services allocated, per pool"),
	}
}

// SetPools publishes the figures of the current pools and drops the series
// of pools that are gone.
func (m *Allocator) SetPools(pools map[string]PoolUsage) {
	for _, v := range []*prometheus.GaugeVec{m.total, m.totalV4, m.totalV6, m.inUse, m.inUseV4, m.inUseV6, m.services} {
		v.Reset()
	}
	for name, u := range pools {
		m.total.WithLabelValues(name).Set(u.Total)
		m.totalV4.WithLabelValues(name).Set(u.TotalV4)
		m.totalV6.WithLabelValues(name).Set(u.TotalV6)
		m.inUse.WithLabelValues(name).Set(u.InUse)
		m.inUseV4.WithLabelValues(name).Set(u.InUseV4)
		m.inUseV6.WithLabelValues(name).Set(u.InUseV6)
		m.services.WithLabelValues(name).Set(u.Services)
	}
}
