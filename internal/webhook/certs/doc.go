// Package certs manages the TLS certificate of the controller's webhook
// server, the way MetalLB's controller does with cert-controller, without
// a cert-manager.
//
// The certificate lives in one Secret of the controller's namespace
// (--webhook-secret, keys ca.crt, ca.key, tls.crt, tls.key). Three pieces
// share it:
//
//   - Plan (pure) decides, from the Secret's data and the clock, whether a
//     new CA or a new serving certificate is needed: missing, unparsable,
//     not signed by the CA, not covering the wanted DNS names and IPs, or
//     expiring within the lookahead.
//   - Rotator (leader only) writes what Plan decides, checks again every
//     CheckInterval and whenever the Secret, the ValidatingWebhookConfiguration
//     or the BGPPeer CRD changes, and injects the CA bundle into every
//     webhook's clientConfig.caBundle and into the CRD's conversion webhook.
//     A re-applied manifest (which carries an empty caBundle) is thus
//     patched again within moments.
//   - Store (every replica) watches the Secret and serves its certificate
//     from memory through tls.Config.GetCertificate, so every replica of
//     the controller picks up a renewed certificate without a restart.
//
// A new CA is injected before the Secret that uses it is written, and the
// previous CA stays in the bundle while it is valid, so the API server
// never meets a serving certificate it cannot verify. Serving certificates
// are re-issued from the same CA, which leaves the bundle unchanged.
package certs
