package netif

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// System lists the interfaces of the calling thread's network namespace.
type System struct{}

var _ Lister = System{}

// Sizes of struct ifinfomsg and struct ifaddrmsg (linux/rtnetlink.h).
const (
	sizeofIfInfomsg = 16
	sizeofIfAddrmsg = 8
)

// Address flags (linux/if_addr.h) that make an address unusable as a source.
const (
	ifaFlagDADFailed = 0x08
	ifaFlagTentative = 0x40
	ifaFlags         = 8 // IFA_FLAGS: 32-bit flags attribute
)

// Interfaces implements Lister with one RTM_GETLINK and one RTM_GETADDR
// dump.
func (System) Interfaces() ([]Interface, error) {
	links, err := dump(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return nil, err
	}
	var out []Interface
	byIndex := map[int]int{}
	for _, m := range links {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < sizeofIfInfomsg {
			continue
		}
		index := int(int32(binary.NativeEndian.Uint32(m.Data[4:8])))
		flags := binary.NativeEndian.Uint32(m.Data[8:12])
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, fmt.Errorf("parse link %d: %w", index, err)
		}
		i := Interface{
			Index:     index,
			Up:        flags&syscall.IFF_UP != 0,
			Broadcast: flags&syscall.IFF_BROADCAST != 0,
			NoARP:     flags&syscall.IFF_NOARP != 0,
		}
		for _, a := range attrs {
			switch a.Attr.Type {
			case syscall.IFLA_IFNAME:
				i.Name = cString(a.Value)
			case syscall.IFLA_ADDRESS:
				i.MAC = net.HardwareAddr(append([]byte(nil), a.Value...))
			case syscall.IFLA_MASTER:
				if len(a.Value) >= 4 && binary.NativeEndian.Uint32(a.Value) != 0 {
					i.Enslaved = true
				}
			}
		}
		byIndex[index] = len(out)
		out = append(out, i)
	}

	addrs, err := dump(syscall.RTM_GETADDR, syscall.AF_INET6)
	if err != nil {
		return nil, err
	}
	for _, m := range addrs {
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < sizeofIfAddrmsg || m.Data[0] != syscall.AF_INET6 {
			continue
		}
		k, ok := byIndex[int(binary.NativeEndian.Uint32(m.Data[4:8]))]
		if !ok || out[k].LinkLocal.IsValid() {
			continue
		}
		flags := uint32(m.Data[2])
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, fmt.Errorf("parse address: %w", err)
		}
		var ip netip.Addr
		for _, a := range attrs {
			switch a.Attr.Type {
			case syscall.IFA_ADDRESS:
				if len(a.Value) == 16 {
					ip = netip.AddrFrom16([16]byte(a.Value))
				}
			case ifaFlags:
				if len(a.Value) >= 4 {
					flags = binary.NativeEndian.Uint32(a.Value)
				}
			}
		}
		if ip.IsLinkLocalUnicast() && flags&(ifaFlagTentative|ifaFlagDADFailed) == 0 {
			out[k].LinkLocal = ip
		}
	}
	return out, nil
}

func dump(typ, family int) ([]syscall.NetlinkMessage, error) {
	tab, err := syscall.NetlinkRIB(typ, family)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink dump %d: %w", typ, err)
	}
	msgs, err := syscall.ParseNetlinkMessage(tab)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink dump %d: %w", typ, err)
	}
	return msgs, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
