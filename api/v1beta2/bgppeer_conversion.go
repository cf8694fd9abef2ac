package v1beta2

// Hub marks v1beta2 BGPPeer as the version every other BGPPeer version
// converts through.
func (*BGPPeer) Hub() {}
