package config

import (
	"time"

	"github.com/ferrolb/ferrolb/internal/core/model"
)

func ptr[T any](v T) *T { return &v }

func pool(name string, addrs ...string) PoolSpec {
	return PoolSpec{Meta: Meta{Name: name}, Addresses: addrs}
}

func labeled(labels map[string]string, p PoolSpec) PoolSpec {
	p.Labels = labels
	return p
}

func sel(kv ...string) model.Selector {
	s := model.Selector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func in(key string, values ...string) model.Selector {
	return model.Selector{MatchExpressions: []model.Requirement{{Key: key, Operator: model.OpIn, Values: values}}}
}

func peer(name, addr string) BGPPeerSpec {
	return BGPPeerSpec{Meta: Meta{Name: name}, MyASN: 64500, PeerASN: 64501, PeerAddress: addr}
}

func node(name string, kv ...string) Node {
	return Node{Name: name, Labels: sel(kv...).MatchLabels}
}

func bgpAd(name string) BGPAdvertisementSpec {
	return BGPAdvertisementSpec{Meta: Meta{Name: name}}
}

func dur(d time.Duration) *time.Duration { return &d }

func perr(kind Kind, name, field, msg string) Error {
	return Error{Kind: kind, Name: name, Field: field, Message: msg}
}

func transient(kind Kind, name, field, msg string) Error {
	return Error{Kind: kind, Name: name, Field: field, Message: msg, Transient: true}
}

// with returns v changed by f, for table rows that differ from a base.
func with[T any](v T, f func(*T)) T {
	f(&v)
	return v
}
