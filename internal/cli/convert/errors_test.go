package convert

import (
	"errors"
	"strings"
	"testing"
)

// A valid base the error cases modify.
const okPool = "address-pools:\n- name: p\n  protocol: layer2\n  addresses: [192.0.2.0/28]\n"
const okPeer = "peers:\n- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 192.0.2.1\n"

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		onlyData bool
		// want are substrings of the error, each on one line of it.
		want []string
		// input error: the message lists field problems (*InputError).
		inputErr bool
	}{
		// Decoding.
		{name: "unknown top-level key", onlyData: true, inputErr: true,
			input: "adress-pools: []\n" + okPool,
			want:  []string{"adress-pools: unknown field"}},
		{name: "unknown peer key", onlyData: true, inputErr: true,
			input: okPeer + "  peer-adress: 192.0.2.2\n",
			want:  []string{"peers[0].peer-adress: unknown field"}},
		{name: "unknown advertisement key", onlyData: true, inputErr: true,
			input: "address-pools:\n- name: p\n  protocol: bgp\n  addresses: [192.0.2.0/28]\n  bgp-advertisements:\n  - aggregation-length: 32\n    local-pref: 100\n",
			want:  []string{"address-pools[0].bgp-advertisements[0].local-pref: unknown field"}},
		{name: "unknown selector key", onlyData: true, inputErr: true,
			input: okPeer + "  node-selectors:\n  - matchLabels: {a: b}\n",
			want:  []string{"peers[0].node-selectors[0].matchLabels: unknown field"}},
		{name: "every problem is reported", onlyData: true, inputErr: true,
			input: "address-pools:\n- protocol: bgp\n  addresses: [192.0.2.0/28]\n- name: q\n  protocol: bpg\n  addresses: [192.0.2.16/28]\n",
			want: []string{"address-pools[0].name: required",
				`address-pools[1].protocol: unknown protocol "bpg" (want bgp or layer2)`}},
		{name: "missing protocol", onlyData: true, inputErr: true,
			input: "address-pools:\n- name: p\n  addresses: [192.0.2.0/28]\n",
			want:  []string{"address-pools[0].protocol: required"}},
		{name: "string ASN", onlyData: true, inputErr: true,
			input: "peers:\n- my-asn: \"64500\"\n  peer-asn: 64501\n  peer-address: 192.0.2.1\n",
			want:  []string{"peers[0].my-asn: must be a number, got a string"}},
		{name: "ASN out of range", onlyData: true, inputErr: true,
			input: "peers:\n- my-asn: 4294967296\n  peer-asn: 64501\n  peer-address: 192.0.2.1\n",
			want:  []string{"peers[0].my-asn: 4294967296 is out of range 0..4294967295"}},
		{name: "fractional localpref", onlyData: true, inputErr: true,
			input: "address-pools:\n- name: p\n  protocol: bgp\n  addresses: [192.0.2.0/28]\n  bgp-advertisements:\n  - localpref: 1.5\n",
			want:  []string{"address-pools[0].bgp-advertisements[0].localpref: must be a whole number, got 1.5"}},
		{name: "peer port beyond the CRD range", onlyData: true, inputErr: true,
			input: okPeer + "  peer-port: 20000\n",
			want:  []string{"peers[0].peer-port: 20000 is out of range 0..16384"}},
		{name: "bad duration", onlyData: true, inputErr: true,
			input: okPeer + "  hold-time: 90\n",
			want:  []string{"peers[0].hold-time: must be a string, got a number (put the value in quotes)"}},
		{name: "unparseable duration", onlyData: true, inputErr: true,
			input: okPeer + "  keepalive-time: soon\n",
			want:  []string{`peers[0].keepalive-time: invalid duration "soon"`}},
		{name: "numeric label value", onlyData: true, inputErr: true,
			input: okPeer + "  node-selectors:\n  - match-labels:\n      zone: 1\n",
			want:  []string{"peers[0].node-selectors[0].match-labels.zone: must be a string, got a number (put the value in quotes)"}},
		{name: "list expected", onlyData: true, inputErr: true,
			input: "address-pools:\n  name: p\n",
			want:  []string{"address-pools: must be a list, got a mapping"}},
		{name: "bgp-advertisements on a layer2 pool", onlyData: true, inputErr: true,
			input: okPool + "  bgp-advertisements:\n  - localpref: 100\n",
			want:  []string{"address-pools[0].bgp-advertisements: only allowed in a pool whose protocol is bgp"}},
		{name: "duplicate pool name", onlyData: true, inputErr: true,
			input: okPool + "- name: p\n  protocol: layer2\n  addresses: [192.0.2.16/28]\n",
			want:  []string{`address-pools[1].name: duplicate name "p" (also used by address-pools[0].name)`}},
		{name: "names collide after renaming", onlyData: true, inputErr: true,
			input: "address-pools:\n- name: a-b\n  protocol: layer2\n  addresses: [192.0.2.0/28]\n- name: A_b\n  protocol: layer2\n  addresses: [192.0.2.16/28]\n",
			want:  []string{`address-pools[1].name: "A_b" becomes "a-b", which address-pools[0].name already uses`}},
		{name: "name that cannot be rescued", onlyData: true, inputErr: true,
			input: "bfd-profiles:\n- name: \"__\"\n",
			want:  []string{`bfd-profiles[0].name: "__" cannot be turned into a Kubernetes object name`}},

		// Compiler errors, reported against the legacy field.
		{name: "bad CIDR", onlyData: true, inputErr: true,
			input: "address-pools:\n- name: p\n  protocol: layer2\n  addresses: [192.0.2.0/33]\n",
			want:  []string{`address-pools[0].addresses[0] (IPAddressPool "p"): `}},
		{name: "overlapping pools", onlyData: true, inputErr: true,
			input: okPool + "- name: q\n  protocol: layer2\n  addresses: [192.0.2.8/29]\n",
			want:  []string{`address-pools[0]`, `(IPAddressPool "p")`, `(IPAddressPool "q")`}},
		{name: "aggregation length too long", onlyData: true, inputErr: true,
			input: "address-pools:\n- name: p\n  protocol: bgp\n  addresses: [192.0.2.0/28]\n  bgp-advertisements:\n  - aggregation-length: 33\n",
			want:  []string{`address-pools[0].bgp-advertisements[0].aggregation-length (BGPAdvertisement "bgpadvertisement1"): aggregation length 33 is out of range 1..32`}},
		{name: "aggregation shorter than the pool", onlyData: true, inputErr: true,
			input: "address-pools:\n- name: p\n  protocol: bgp\n  addresses: [192.0.2.0/28]\n  bgp-advertisements:\n  - aggregation-length: 24\n",
			want:  []string{`address-pools[0].bgp-advertisements[0].aggregation-length (BGPAdvertisement "bgpadvertisement1")`}},
		{name: "missing local ASN", onlyData: true, inputErr: true,
			input: "peers:\n- peer-asn: 64501\n  peer-address: 192.0.2.1\n",
			want:  []string{`peers[0].my-asn (BGPPeer "peer1"): missing local ASN`}},
		{name: "hold time too short", onlyData: true, inputErr: true,
			input: okPeer + "  hold-time: 2s\n",
			want:  []string{`peers[0].hold-time (BGPPeer "peer1"): hold time`}},
		{name: "bad peer address", onlyData: true, inputErr: true,
			input: "peers:\n- my-asn: 64500\n  peer-asn: 64501\n  peer-address: 192.0.2.300\n",
			want:  []string{`peers[0].peer-address (BGPPeer "peer1"): invalid peer address "192.0.2.300"`}},
		{name: "unknown BFD profile", onlyData: true, inputErr: true,
			input: okPeer + "  bfd-profile: nope\n",
			want:  []string{`peers[0].bfd-profile (BGPPeer "peer1"): BFDProfile "nope" not found`}},
		{name: "bad selector operator", onlyData: true, inputErr: true,
			input: okPeer + "  node-selectors:\n  - match-expressions:\n    - key: a\n      operator: Near\n      values: [b]\n",
			want:  []string{`peers[0].node-selectors[0] (BGPPeer "peer1"): invalid selector: unknown operator "Near"`}},
		{name: "bad community value", onlyData: true, inputErr: true,
			input: "bgp-communities:\n  good: 64500:1\n  bad: 99999999:1\n",
			want:  []string{`bgp-communities.bad (Community "communities")`}},
		{name: "unknown community alias", onlyData: true, inputErr: true,
			input: "address-pools:\n- name: p\n  protocol: bgp\n  addresses: [192.0.2.0/28]\n  bgp-advertisements:\n  - communities: [64500:1, no-such-alias]\n",
			want:  []string{`address-pools[0].bgp-advertisements[0].communities[1] (BGPAdvertisement "bgpadvertisement1")`}},
		{name: "BFD interval out of range", onlyData: true, inputErr: true,
			input: "bfd-profiles:\n- name: b\n  receive-interval: 5\n",
			want:  []string{`bfd-profiles[0].receive-interval (BFDProfile "b"): 5 is out of range 10..60000`}},

		// Envelope.
		{name: "bare data without --only-data",
			input: okPool,
			want:  []string{`the input is not a ConfigMap (no "kind: ConfigMap"); use --only-data if it is the bare configuration`}},
		{name: "another kind",
			input: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n",
			want:  []string{"the input is a Secret, not a ConfigMap"}},
		{name: "ConfigMap without config",
			input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  other: x\n",
			want:  []string{`the ConfigMap has no data key "config"`}},
		{name: "config that is not YAML",
			input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  config: \"peers: [\"\n",
			want:  []string{"the data.config is not valid YAML"}},
		{name: "unknown key inside a ConfigMap", inputErr: true,
			input: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata:\n  config: |\n    adress-pools: []\n",
			want:  []string{"adress-pools: unknown field"}},
		{name: "empty input", onlyData: true, input: "# nothing\n",
			want: []string{"the input is empty"}},
		{name: "two documents", onlyData: true, input: okPool + "---\n" + okPool,
			want: []string{"the input holds 2 YAML documents; give one"}},
		{name: "not YAML", onlyData: true, input: "peers: [\n",
			want: []string{"the input is not valid YAML"}},
		{name: "duplicate key", onlyData: true, input: okPool + "address-pools: []\n",
			want: []string{"the input is not valid YAML", "address-pools"}},
		{name: "not a mapping", onlyData: true, inputErr: true, input: "- a\n- b\n",
			want: []string{"must be a mapping, got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Convert([]byte(tt.input), Options{OnlyData: tt.onlyData})
			if err == nil {
				t.Fatalf("Convert succeeded with %d objects, want an error", len(res.Objects))
			}
			var ie *InputError
			if isInput := errors.As(err, &ie); isInput != tt.inputErr {
				t.Errorf("error %T is an *InputError: %v, want %v", err, isInput, tt.inputErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestInputErrorFormat(t *testing.T) {
	one := &InputError{Problems: []string{"a: b"}}
	if got := one.Error(); got != "invalid configuration: a: b" {
		t.Errorf("one problem: %q", got)
	}
	two := &InputError{Problems: []string{"a: b", "c: d"}}
	if got := two.Error(); got != "invalid configuration:\n  a: b\n  c: d" {
		t.Errorf("two problems: %q", got)
	}
}
