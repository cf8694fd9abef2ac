package webhook

import (
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferrolb/ferrolb/api/v1beta1"
)

// Names of the cluster objects the webhooks live in (MetalLB's).
const (
	// ConfigurationName is the ValidatingWebhookConfiguration.
	ConfigurationName = "metallb-webhook-configuration"
	// ServiceName is the webhook Service (--cert-service-name default).
	ServiceName = "metallb-webhook-service"
	// SecretName is the certificate Secret (--webhook-secret default).
	SecretName = "metallb-webhook-cert"
	// BGPPeerCRD is the CRD whose conversion webhook is ConvertPath.
	BGPPeerCRD = "bgppeers.metallb.io"
	// Port is the webhook server's port (the Service maps 443 to it).
	Port = 9443
	// ConvertPath serves BGPPeer v1beta1 <-> v1beta2 conversion.
	ConvertPath = "/convert"
)

// Paths of the validating webhooks.
const (
	PathIPAddressPool    = "/validate-metallb-io-v1beta1-ipaddresspool"
	PathBGPPeer          = "/validate-metallb-io-v1beta2-bgppeer"
	PathBGPAdvertisement = "/validate-metallb-io-v1beta1-bgpadvertisement"
	PathL2Advertisement  = "/validate-metallb-io-v1beta1-l2advertisement"
	PathCommunity        = "/validate-metallb-io-v1beta1-community"
	PathBFDProfile       = "/validate-metallb-io-v1beta1-bfdprofile"
)

// Hook is one validating webhook of ConfigurationName: what the manifest's
// entry for it must say.
type Hook struct {
	// Name is the webhook's name in the configuration.
	Name string
	// Path is the URL path the server handles it on.
	Path string
	// Version and Resource are the rule's apiVersions and resources (group
	// metallb.io).
	Version, Resource string
	// Kind is the object's kind.
	Kind string
	// Operations are the rule's operations.
	Operations []admissionregistrationv1.OperationType
}

var (
	createUpdate = []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	createDelete = []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Delete}
)

// Hooks lists the validating webhooks, in MetalLB's manifest order. The
// BGPPeer rule names v1beta2 only: with the default matchPolicy
// (Equivalent) the API server converts v1beta1 requests and sends them to
// the same webhook.
var Hooks = []Hook{
	{Name: "bgppeersvalidationwebhook.metallb.io", Path: PathBGPPeer, Version: "v1beta2", Resource: "bgppeers", Kind: "BGPPeer", Operations: createUpdate},
	{Name: "bfdprofilevalidationwebhook.metallb.io", Path: PathBFDProfile, Version: "v1beta1", Resource: "bfdprofiles", Kind: "BFDProfile", Operations: createDelete},
	{Name: "bgpadvertisementvalidationwebhook.metallb.io", Path: PathBGPAdvertisement, Version: "v1beta1", Resource: "bgpadvertisements", Kind: "BGPAdvertisement", Operations: createUpdate},
	{Name: "communityvalidationwebhook.metallb.io", Path: PathCommunity, Version: "v1beta1", Resource: "communities", Kind: "Community", Operations: createUpdate},
	{Name: "ipaddresspoolvalidationwebhook.metallb.io", Path: PathIPAddressPool, Version: "v1beta1", Resource: "ipaddresspools", Kind: "IPAddressPool", Operations: createUpdate},
	{Name: "l2advertisementvalidationwebhook.metallb.io", Path: PathL2Advertisement, Version: "v1beta1", Resource: "l2advertisements", Kind: "L2Advertisement", Operations: createUpdate},
}

// ServiceClientConfig returns the clientConfig of the manifests: the
// webhook Service of namespace, on its default port (443), at path.
func ServiceClientConfig(namespace, service string) func(path string) admissionregistrationv1.WebhookClientConfig {
	return func(path string) admissionregistrationv1.WebhookClientConfig {
		p := path
		return admissionregistrationv1.WebhookClientConfig{
			Service: &admissionregistrationv1.ServiceReference{Namespace: namespace, Name: service, Path: &p},
		}
	}
}

// Configuration returns the ValidatingWebhookConfiguration for Hooks, with
// the given failure policy and clientConfig (clientConfig(path) is called
// once per webhook). The CA bundle is left empty: the certificate rotator
// injects it. The manifests carry the same content.
func Configuration(name string, policy admissionregistrationv1.FailurePolicyType, clientConfig func(path string) admissionregistrationv1.WebhookClientConfig) *admissionregistrationv1.ValidatingWebhookConfiguration {
	none := admissionregistrationv1.SideEffectClassNone
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	for _, h := range Hooks {
		p := policy
		vwc.Webhooks = append(vwc.Webhooks, admissionregistrationv1.ValidatingWebhook{
			Name:                    h.Name,
			ClientConfig:            clientConfig(h.Path),
			FailurePolicy:           &p,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: slices.Clone(h.Operations),
				Rule: admissionregistrationv1.Rule{
					APIGroups:   []string{v1beta1.GroupVersion.Group},
					APIVersions: []string{h.Version},
					Resources:   []string{h.Resource},
				},
			}},
		})
	}
	return vwc
}
