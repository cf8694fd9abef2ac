package convert

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ferrolb/ferrolb/api/v1beta1"
	"github.com/ferrolb/ferrolb/api/v1beta2"
)

// DefaultNamespace is where the resources go when neither the options nor
// the ConfigMap name a namespace.
const DefaultNamespace = "metallb-system"

// ConfigKey is the ConfigMap data key that holds the legacy configuration.
const ConfigKey = "config"

// DefaultHoldTime is the hold time of a legacy peer that sets none.
const DefaultHoldTime = 90 * time.Second

// CommunityName is the name of the one Community object the
// bgp-communities aliases go to.
const CommunityName = "communities"

// Options tune Convert.
type Options struct {
	// OnlyData means the input is the configuration itself, not a
	// ConfigMap holding it under data.config.
	OnlyData bool
	// Namespace of the resources; empty means the ConfigMap's namespace,
	// else DefaultNamespace.
	Namespace string
}

// Result is a successful conversion.
type Result struct {
	Namespace string
	// Objects in the order they are printed: BFD profiles, the Community,
	// pools, peers, BGP advertisements, L2 advertisements (referenced kinds
	// first, so applying them in order never dangles).
	Objects []client.Object
	// Notes are things the user should know (renamed objects, ignored
	// ConfigMap keys), one line each.
	Notes []string
}

// Convert reads a legacy configuration and returns the equivalent
// resources, validated by the configuration compiler. An *InputError lists
// every problem found, each naming the field at fault.
func Convert(input []byte, o Options) (*Result, error) {
	doc, err := singleDocument(input, "input")
	if err != nil {
		return nil, err
	}
	res := &Result{Namespace: o.Namespace}
	if !o.OnlyData {
		var cmNamespace string
		doc, cmNamespace, err = fromConfigMap(doc, res)
		if err != nil {
			return nil, err
		}
		if res.Namespace == "" {
			res.Namespace = cmNamespace
		}
	}
	if res.Namespace == "" {
		res.Namespace = DefaultNamespace
	}
	p := &problems{}
	legacy := decodeLegacy(doc, p)
	if err := p.err(); err != nil {
		return nil, err
	}
	b := &builder{ns: res.Namespace, p: p, origin: map[objectKey]origin{}}
	b.build(legacy)
	if err := p.err(); err != nil {
		return nil, err
	}
	if err := b.validate(); err != nil {
		return nil, err
	}
	res.Objects = b.objects()
	res.Notes = append(res.Notes, b.notes...)
	return res, nil
}

// singleDocument decodes YAML that must hold exactly one non-empty document.
func singleDocument(data []byte, what string) (any, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var found []any
	for {
		chunk, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the %s: %w", what, err)
		}
		js, err := yaml.YAMLToJSONStrict(chunk)
		if err != nil {
			return nil, fmt.Errorf("the %s is not valid YAML: %w", what, err)
		}
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the %s is not valid YAML: %w", what, err)
		}
		if v != nil {
			found = append(found, v)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("the %s is empty", what)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("the %s holds %d YAML documents; give one", what, len(found))
}

// fromConfigMap extracts and decodes data.config of a ConfigMap.
func fromConfigMap(doc any, res *Result) (cfg any, namespace string, err error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("the input is not a ConfigMap (it is %s); use --only-data if it is the bare configuration", typeName(doc))
	}
	if kind, _ := m["kind"].(string); kind != "ConfigMap" {
		if _, legacy := m["address-pools"]; legacy || kind == "" {
			return nil, "", errors.New("the input is not a ConfigMap (no \"kind: ConfigMap\"); use --only-data if it is the bare configuration")
		}
		return nil, "", fmt.Errorf("the input is a %s, not a ConfigMap", kind)
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		namespace, _ = md["namespace"].(string)
	}
	data, _ := m["data"].(map[string]any)
	raw, present := data[ConfigKey]
	if !present {
		return nil, "", fmt.Errorf("the ConfigMap has no data key %q", ConfigKey)
	}
	text, ok := raw.(string)
	if !ok {
		return nil, "", fmt.Errorf("data.%s: must be a string, got %s", ConfigKey, typeName(raw))
	}
	for k := range data {
		if k != ConfigKey {
			res.Notes = append(res.Notes, fmt.Sprintf("ignored ConfigMap data key %q (only %q holds the configuration)", k, ConfigKey))
		}
	}
	cfg, err = singleDocument([]byte(text), "data."+ConfigKey)
	if err != nil {
		return nil, "", err
	}
	return cfg, namespace, nil
}

// objectKey names one generated object.
type objectKey struct {
	kind, name string
}

// origin is where an object came from in the input, for error messages.
type origin struct {
	path string
	// aliases lists the Community's aliases in order (spec.communities[i]
	// is aliases[i]).
	aliases []string
}

// builder makes the resources of a decoded legacy configuration.
type builder struct {
	ns     string
	p      *problems
	notes  []string
	origin map[objectKey]origin

	bfds    []v1beta1.BFDProfile
	comm    []v1beta1.Community
	pools   []v1beta1.IPAddressPool
	peers   []v1beta2.BGPPeer
	bgpAds  []v1beta1.BGPAdvertisement
	l2Ads   []v1beta1.L2Advertisement
	bfdName map[string]string // legacy BFD profile name -> object name
}

func (b *builder) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: b.ns}
}

func typeMeta(gv interface{ String() string }, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: gv.String(), Kind: kind}
}

// name returns the object name for a legacy name, noting renames, and
// reports names that collide after renaming.
func (b *builder) name(kind, legacyName, field string, taken map[string]string) string {
	n, ok := objectName(legacyName)
	if !ok {
		b.p.add(field, "%q cannot be turned into a Kubernetes object name", legacyName)
		return ""
	}
	if prev, dup := taken[n]; dup {
		if n == legacyName {
			b.p.add(field, "duplicate name %q (also used by %s)", legacyName, prev)
		} else {
			b.p.add(field, "%q becomes %q, which %s already uses", legacyName, n, prev)
		}
		return ""
	}
	taken[n] = field
	if n != legacyName {
		b.notes = append(b.notes, fmt.Sprintf("%s: %s %q renamed to %q (not a valid object name)", field, kind, legacyName, n))
	}
	return n
}

func (b *builder) build(cfg legacyConfig) {
	b.bfdName = map[string]string{}
	taken := map[string]string{}
	for _, l := range cfg.BFDProfiles {
		name := b.name("BFDProfile", l.Name, join(l.path, "name"), taken)
		if name == "" {
			continue
		}
		b.bfdName[l.Name] = name
		b.origin[objectKey{"BFDProfile", name}] = origin{path: l.path}
		b.bfds = append(b.bfds, v1beta1.BFDProfile{
			TypeMeta:   typeMeta(v1beta1.GroupVersion, "BFDProfile"),
			ObjectMeta: b.meta(name),
			Spec: v1beta1.BFDProfileSpec{
				ReceiveInterval:  l.ReceiveInterval,
				TransmitInterval: l.TransmitInterval,
				DetectMultiplier: l.DetectMultiplier,
				EchoInterval:     l.EchoInterval,
				EchoMode:         l.EchoMode,
				PassiveMode:      l.PassiveMode,
				MinimumTTL:       l.MinimumTTL,
			},
		})
	}

	if len(cfg.Communities) > 0 {
		aliases := slices.Sorted(maps.Keys(cfg.Communities))
		c := v1beta1.Community{TypeMeta: typeMeta(v1beta1.GroupVersion, "Community"), ObjectMeta: b.meta(CommunityName)}
		for _, a := range aliases {
			c.Spec.Communities = append(c.Spec.Communities, v1beta1.CommunityAlias{Name: a, Value: cfg.Communities[a]})
		}
		b.comm = append(b.comm, c)
		b.origin[objectKey{"Community", CommunityName}] = origin{path: "bgp-communities", aliases: aliases}
	}

	taken = map[string]string{}
	bgpN, l2N := 0, 0
	for _, l := range cfg.Pools {
		name := b.name("IPAddressPool", l.Name, join(l.path, "name"), taken)
		if name == "" {
			continue
		}
		b.origin[objectKey{"IPAddressPool", name}] = origin{path: l.path}
		b.pools = append(b.pools, v1beta1.IPAddressPool{
			TypeMeta:   typeMeta(v1beta1.GroupVersion, "IPAddressPool"),
			ObjectMeta: b.meta(name),
			Spec: v1beta1.IPAddressPoolSpec{
				Addresses:     l.Addresses,
				AutoAssign:    l.AutoAssign,
				AvoidBuggyIPs: l.AvoidBuggyIPs,
			},
		})
		switch l.Protocol {
		case protocolLayer2:
			l2N++
			adName := fmt.Sprintf("l2advertisement%d", l2N)
			b.origin[objectKey{"L2Advertisement", adName}] = origin{path: l.path}
			b.l2Ads = append(b.l2Ads, v1beta1.L2Advertisement{
				TypeMeta:   typeMeta(v1beta1.GroupVersion, "L2Advertisement"),
				ObjectMeta: b.meta(adName),
				Spec:       v1beta1.L2AdvertisementSpec{IPAddressPools: []string{name}},
			})
		case protocolBGP:
			ads := l.Ads
			if len(ads) == 0 {
				ads = []legacyAd{{path: l.path}} // advertise with the defaults
			}
			for _, a := range ads {
				bgpN++
				adName := fmt.Sprintf("bgpadvertisement%d", bgpN)
				b.origin[objectKey{"BGPAdvertisement", adName}] = origin{path: a.path}
				b.bgpAds = append(b.bgpAds, v1beta1.BGPAdvertisement{
					TypeMeta:   typeMeta(v1beta1.GroupVersion, "BGPAdvertisement"),
					ObjectMeta: b.meta(adName),
					Spec: v1beta1.BGPAdvertisementSpec{
						AggregationLength:   a.AggLength,
						AggregationLengthV6: a.AggLengthV6,
						LocalPref:           ptr.Deref(a.LocalPref, 0),
						Communities:         a.Communities,
						IPAddressPools:      []string{name},
					},
				})
			}
		}
	}

	for i, l := range cfg.Peers {
		name := fmt.Sprintf("peer%d", i+1)
		b.origin[objectKey{"BGPPeer", name}] = origin{path: l.path}
		spec := v1beta2.BGPPeerSpec{
			MyASN:         l.MyASN,
			ASN:           l.PeerASN,
			Address:       l.Address,
			SrcAddress:    l.SourceAddress,
			Port:          l.Port,
			HoldTime:      &metav1.Duration{Duration: ptr.Deref(l.HoldTime, DefaultHoldTime)},
			RouterID:      l.RouterID,
			NodeSelectors: l.NodeSelectors,
			Password:      l.Password,
			BFDProfile:    l.BFDProfile,
			EBGPMultiHop:  l.EBGPMultiHop,
		}
		if l.KeepaliveTime != nil {
			spec.KeepaliveTime = &metav1.Duration{Duration: *l.KeepaliveTime}
		}
		if l.BFDProfile != "" {
			if n, ok := b.bfdName[l.BFDProfile]; ok {
				spec.BFDProfile = n
			} else if n, ok := objectName(l.BFDProfile); ok {
				spec.BFDProfile = n // unknown profile: the compiler reports it
			}
		}
		b.peers = append(b.peers, v1beta2.BGPPeer{
			TypeMeta:   typeMeta(v1beta2.GroupVersion, "BGPPeer"),
			ObjectMeta: b.meta(name),
			Spec:       spec,
		})
	}
}

func (b *builder) objects() []client.Object {
	var out []client.Object
	out = appendObjects(out, b.bfds)
	out = appendObjects(out, b.comm)
	out = appendObjects(out, b.pools)
	out = appendObjects(out, b.peers)
	out = appendObjects(out, b.bgpAds)
	return appendObjects(out, b.l2Ads)
}

// appendObjects appends a pointer to each item of items.
func appendObjects[T any, P interface {
	*T
	client.Object
}](out []client.Object, items []T) []client.Object {
	for i := range items {
		out = append(out, P(&items[i]))
	}
	return out
}

// Header starts the printed YAML.
const Header = "# Generated by `kubectl metallb convert` from a MetalLB configuration in the\n" +
	"# pre-v0.13 ConfigMap format. Review it, then apply it with kubectl apply -f.\n"

// WriteYAML prints the objects as YAML documents separated by "---",
// without empty status or creationTimestamp fields.
func (r *Result) WriteYAML(w io.Writer) error {
	var buf strings.Builder
	buf.WriteString(Header)
	for _, obj := range r.Objects {
		raw, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		delete(m, "status")
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "creationTimestamp")
		}
		pruneEmpty(m)
		out, err := yaml.Marshal(m)
		if err != nil {
			return err
		}
		buf.WriteString("---\n")
		buf.Write(out)
	}
	_, err := io.WriteString(w, buf.String())
	return err
}

// pruneEmpty removes, recursively, the keys of m whose value is an empty
// mapping (such as an unset passwordSecret). List items are kept: an empty
// selector in a list means "everything".
func pruneEmpty(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			pruneEmpty(v)
			if len(v) == 0 {
				delete(m, k)
			}
		case []any:
			for _, item := range v {
				if im, ok := item.(map[string]any); ok {
					pruneEmpty(im)
				}
			}
		}
	}
}
