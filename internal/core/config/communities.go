package config

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Community is a BGP community value: a legacy community (RFC 1997,
// written "AS:value", two 16-bit numbers) or a large community (RFC 8092,
// written "large:global:local1:local2", three 32-bit numbers).
type Community struct {
	Large bool
	// For a legacy community Global is the AS part and Local1 the value
	// part (both fit in 16 bits) and Local2 is 0.
	Global, Local1, Local2 uint32
}

// ParseCommunity parses a community value as written in a BGPAdvertisement
// or a Community object (aliases are resolved by the caller).
func ParseCommunity(s string) (Community, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
		var v [2]uint32
		for i, p := range parts {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return Community{}, fmt.Errorf("invalid community %q: a legacy community is two numbers 0..65535 written AS:value", s)
			}
			v[i] = uint32(n)
		}
		return Community{Global: v[0], Local1: v[1]}, nil
	case 4:
		if parts[0] != "large" {
			return Community{}, fmt.Errorf("invalid community %q: a large community is written large:global:local1:local2", s)
		}
		var v [3]uint32
		for i, p := range parts[1:] {
			n, err := strconv.ParseUint(p, 10, 32)
			if err != nil {
				return Community{}, fmt.Errorf("invalid community %q: the parts of a large community are numbers 0..4294967295", s)
			}
			v[i] = uint32(n)
		}
		return Community{Large: true, Global: v[0], Local1: v[1], Local2: v[2]}, nil
	}
	return Community{}, fmt.Errorf("invalid community %q: expected AS:value or large:global:local1:local2", s)
}

// String renders the community the way it is written in the API.
func (c Community) String() string {
	if c.Large {
		return fmt.Sprintf("large:%d:%d:%d", c.Global, c.Local1, c.Local2)
	}
	return fmt.Sprintf("%d:%d", c.Global, c.Local1)
}

// Value returns a legacy community as the 32-bit number carried in the
// COMMUNITIES attribute (AS in the high 16 bits). It is 0 for a large
// community.
func (c Community) Value() uint32 {
	if c.Large {
		return 0
	}
	return c.Global<<16 | c.Local1
}

// compareCommunities orders legacy communities before large ones, then
// numerically.
func compareCommunities(a, b Community) int {
	if a.Large != b.Large {
		if !a.Large {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.Global, b.Global); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Local1, b.Local1); c != 0 {
		return c
	}
	return cmp.Compare(a.Local2, b.Local2)
}

// communities validates the Community objects and returns the alias table
// of the valid ones. An alias must be unique across all Community objects.
func (c *compiler) communities() map[string]Community {
	specs := byName(&c.errs, KindCommunity, c.s.Communities, func(s CommunitySpec) string { return s.Name })

	// owners[alias] lists the objects defining it, for the uniqueness rule.
	type def struct {
		obj   int
		entry int
	}
	owners := map[string][]def{}
	values := make([]map[string]Community, len(specs))
	for i, s := range specs {
		values[i] = map[string]Community{}
		seen := map[string]int{}
		for j, a := range s.Communities {
			field := fmt.Sprintf("spec.communities[%d]", j)
			if a.Name == "" {
				c.errs.add(KindCommunity, s.Name, field+".name", "alias name must not be empty")
				continue
			}
			if k, dup := seen[a.Name]; dup {
				c.errs.add(KindCommunity, s.Name, field+".name", "duplicate alias %q (same as spec.communities[%d])", a.Name, k)
				continue
			}
			seen[a.Name] = j
			owners[a.Name] = append(owners[a.Name], def{i, j})
			v, err := ParseCommunity(a.Value)
			if err != nil {
				c.errs.add(KindCommunity, s.Name, field+".value", "%v", err)
				continue
			}
			values[i][a.Name] = v
		}
	}
	for _, alias := range slices.Sorted(maps.Keys(owners)) {
		defs := owners[alias]
		if len(defs) < 2 {
			continue
		}
		for _, d := range defs {
			var others []string
			for _, o := range defs {
				if o.obj != d.obj {
					others = append(others, strconv.Quote(specs[o.obj].Name))
				}
			}
			c.errs.add(KindCommunity, specs[d.obj].Name, fmt.Sprintf("spec.communities[%d].name", d.entry),
				"alias %q is also defined by Community %s; aliases must be unique across Community objects",
				alias, strings.Join(others, ", "))
		}
	}

	aliases := map[string]Community{}
	for i, s := range specs {
		if c.errs.faulty(KindCommunity, s.Name) {
			continue
		}
		for alias, v := range values[i] {
			aliases[alias] = v
		}
	}
	return aliases
}
