package benchkit

import "testing"

const apiMetrics = `# HELP apiserver_request_total x
apiserver_request_total{code="201",component="apiserver",resource="services",verb="POST",version="v1"} 1000
apiserver_request_total{code="200",component="apiserver",resource="services",subresource="status",verb="PATCH",version="v1"} 999
apiserver_request_total{code="200",component="apiserver",resource="services",verb="GET",version="v1"} 5000
apiserver_request_total{code="201",component="apiserver",resource="events",verb="POST",version="v1"} 20
apiserver_request_total{code="409",component="apiserver",resource="services",verb="POST",version="v1"} 3
apiserver_request_duration_seconds_sum{component="apiserver",resource="services",scope="resource",subresource="",verb="POST",version="v1"} 6
apiserver_request_duration_seconds_count{component="apiserver",resource="services",scope="resource",subresource="",verb="POST",version="v1"} 1500
apiserver_request_duration_seconds_sum{component="apiserver",resource="services",scope="resource",subresource="status",verb="PATCH",version="v1"} 3
apiserver_request_duration_seconds_count{component="apiserver",resource="services",scope="resource",subresource="status",verb="PATCH",version="v1"} 1500
apiserver_request_duration_seconds_sum{component="apiserver",resource="services",scope="resource",subresource="",verb="POST",version="v2"} 1.5
apiserver_request_duration_seconds_count{component="apiserver",resource="services",scope="resource",subresource="",verb="POST",version="v2"} 1500
apiserver_request_duration_seconds_count{component="apiserver",resource="services",scope="resource",subresource="",verb="LIST",version="v1"} 9000
apiserver_request_duration_seconds_count{component="apiserver",resource="events",scope="resource",subresource="",verb="POST",version="v1"} 99
`

func TestSummarizeWrites(t *testing.T) {
	if got, want := SummarizeWrites(apiMetrics, 50), "POST services 1003, PATCH services/status 999"; got != want {
		t.Errorf("SummarizeWrites = %q; want %q", got, want)
	}
}

func TestSummarizeWriteLatencies(t *testing.T) {
	// POST services: 3000 requests (two versions), 7.5 s in all; LIST is
	// no write, events fall short of 100.
	want := "POST services 3000 (mean 2.5 ms), PATCH services/status 1500 (mean 2.0 ms)"
	if got := SummarizeWriteLatencies(apiMetrics, 100); got != want {
		t.Errorf("SummarizeWriteLatencies = %q; want %q", got, want)
	}
}

func TestPromLabel(t *testing.T) {
	set := `code="201",component="apiserver",resource="services",subresource="status",verb="PATCH"`
	for name, want := range map[string]string{"verb": "PATCH", "resource": "services", "subresource": "status", "code": "201", "group": ""} {
		if got := PromLabel(set, name); got != want {
			t.Errorf("PromLabel(%q) = %q; want %q", name, got, want)
		}
	}
	// "source" must not match inside "resource".
	if got := PromLabel(`resource="services"`, "source"); got != "" {
		t.Errorf(`PromLabel(resource="services", "source") = %q; want ""`, got)
	}
}

func TestSummarizeReads(t *testing.T) {
	m := `apiserver_request_total{code="200",resource="services",verb="LIST"} 5
apiserver_request_total{code="200",resource="nodes",verb="LIST"} 4
apiserver_request_total{code="200",resource="services",verb="WATCH"} 7
apiserver_request_total{code="200",resource="endpointslices",group="discovery.k8s.io",verb="LIST"} 2
apiserver_request_total{code="200",resource="endpointslices",group="discovery.k8s.io",verb="LIST",scope="cluster"} 1
apiserver_request_total{code="201",resource="services",verb="POST"} 1000
apiserver_request_total{code="200",resource="leases",group="coordination.k8s.io",verb="GET"} 9
apiserver_request_total{code="200",resource="nodes",verb="GET"} 4
apiserver_terminated_watchers_total{resource="services"} 2
apiserver_terminated_watchers_total{resource="endpointslices"} 1
`
	want := "GET leases 9, WATCH services 7, LIST services 5; slow watchers cut off: 3"
	if got := SummarizeReads(m); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
