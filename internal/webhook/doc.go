// Package webhook serves the controller's admission webhooks: the
// validating webhooks of the metallb.io configuration kinds (MetalLB's
// paths, see Hooks) and the BGPPeer v1beta1 <-> v1beta2 conversion
// webhook, on port 9443.
//
// Validation runs the same configuration compiler as the controller and
// the speaker (internal/core/config), on the namespace's configuration
// read uncached from the API server, once without and once with the
// incoming object. The request is denied only for errors the incoming
// object brings to itself: an already broken, unrelated object never
// blocks a change, and errors the change causes on other objects are
// returned as warnings. References that may resolve later (a BGPPeer's
// bfdProfile and passwordSecret, a BGPAdvertisement's community aliases)
// are not judged at admission. Objects must be created in the controller's
// namespace; a BFDProfile used by a BGPPeer cannot be deleted.
//
// Wiring: NewServing builds the server (pass Server() as the manager's
// WebhookServer), then Serving.Setup registers the handlers and adds the
// certificate Store (every replica: the server opens its port once a
// certificate is loaded, and serves it from memory) and Rotator (leader
// only), both from package certs. Hooks and Configuration describe the
// ValidatingWebhookConfiguration the manifests must carry.
package webhook
