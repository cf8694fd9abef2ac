package inspect

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// textWriter accumulates the text output; flush writes it in one go.
type textWriter struct {
	buf bytes.Buffer
}

func (t *textWriter) line(format string, args ...any) {
	fmt.Fprintf(&t.buf, format+"\n", args...)
}

// table writes rows aligned in columns, each line indented by two spaces;
// an empty cell shows as "-".
func (t *textWriter) table(header []string, rows [][]string) {
	tw := tabwriter.NewWriter(&t.buf, 0, 8, 2, ' ', 0)
	for _, r := range append([][]string{header}, rows...) {
		for i := range r {
			if r[i] == "" {
				r[i] = "-"
			}
		}
		fmt.Fprintf(tw, "  %s\n", strings.Join(r, "\t"))
	}
	tw.Flush()
}

// block writes text indented, one output line per input line.
func (t *textWriter) block(indent, text string) {
	for l := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		t.line("%s%s", indent, l)
	}
}

func (t *textWriter) flush(w io.Writer) error {
	_, err := w.Write(t.buf.Bytes())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteText renders the report for a terminal.
func (r *ServiceReport) WriteText(w io.Writer) error {
	t := &textWriter{}
	t.line("Service:     %s/%s", r.Namespace, r.Name)
	typ := r.Type
	if r.LoadBalancerClass != "" {
		typ += fmt.Sprintf(" (loadBalancerClass %s)", r.LoadBalancerClass)
	}
	t.line("Type:        %s", typ)
	if r.Skipped != "" {
		t.line("Handled:     no, skipped: %s", r.Skipped)
	} else {
		t.line("Handled:     yes")
	}

	if len(r.Requests) == 0 {
		t.line("Requests:    none (any pool with autoAssign, any free IP, no sharing)")
	} else {
		t.line("Requests:")
		var rows [][]string
		for _, q := range r.Requests {
			src := q.Source
			if q.Deprecated {
				src += " (deprecated)"
			}
			rows = append(rows, []string{requestLabel(q.What), q.Value, src})
		}
		t.table([]string{"WHAT", "VALUE", "FROM"}, rows)
	}

	if len(r.Assigned) == 0 {
		t.line("Assigned:    none")
	} else {
		t.line("Assigned:")
		var rows [][]string
		for _, a := range r.Assigned {
			rows = append(rows, []string{a.IP, a.Pool})
		}
		t.table([]string{"IP", "POOL"}, rows)
	}
	// A pending Service shows the condition as its pending reason.
	if r.Condition != nil && !(r.Pending && r.PendingReason == r.Condition.Reason) {
		t.line("Condition:   %s=%s (%s)", ConditionAddressAssigned, r.Condition.Status, r.Condition.Reason)
		if r.Condition.Message != "" {
			t.block("  ", r.Condition.Message)
		}
	}
	if r.Skipped != "" {
		return t.flush(w)
	}

	if r.Pending {
		t.line("Pending:     yes, %s", orDash(r.PendingReason))
		if r.PendingMessage != "" {
			t.block("  ", r.PendingMessage)
		}
	} else {
		t.line("Pending:     no")
	}
	if len(r.Warnings) > 0 {
		t.line("Recent warning events:")
		var rows [][]string
		for _, e := range r.Warnings {
			n := ""
			if e.Count > 1 {
				n = fmt.Sprintf("x%d", e.Count)
			}
			rows = append(rows, []string{e.Age, e.Reason, n, oneLine(e.Message)})
		}
		t.table([]string{"AGE", "REASON", "COUNT", "MESSAGE"}, rows)
	}

	if len(r.Assigned) > 0 {
		if len(r.Advertisements) == 0 {
			t.line("Advertised:  by no advertisement")
		} else {
			t.line("Advertised:  %s", strings.Join(r.Advertisements, ", "))
		}
		hasL2, hasBGP := r.hasAdvertisement("L2Advertisement/"), r.hasAdvertisement("BGPAdvertisement/")
		switch {
		case len(r.Layer2) == 0 && hasL2:
			t.line("Layer 2:     not announced by any node")
		case len(r.Layer2) > 0:
			t.line("Layer 2:     announced by")
			var rows [][]string
			for _, a := range r.Layer2 {
				ifcs := "all"
				if len(a.Interfaces) > 0 {
					ifcs = strings.Join(a.Interfaces, ",")
				}
				rows = append(rows, []string{a.Node, ifcs})
			}
			t.table([]string{"NODE", "INTERFACES"}, rows)
		}
		switch {
		case len(r.BGP) == 0 && hasBGP:
			t.line("BGP:         not advertised by any node")
		case len(r.BGP) > 0:
			t.line("BGP:         advertised by")
			var rows [][]string
			for _, b := range r.BGP {
				if len(b.Peers) == 0 {
					rows = append(rows, []string{b.Node, "", "", "", "", ""})
				}
				for _, p := range b.Peers {
					rows = append(rows, []string{b.Node, p.Peer, p.Address, sessionState(p.State), p.BFD, p.Error})
				}
			}
			t.table([]string{"NODE", "PEER", "ADDRESS", "SESSION", "BFD", "ERROR"}, rows)
		}
	}
	if r.Controller != nil {
		t.line("Controller:  configuration %s", r.Controller.Result)
		if r.Controller.ErrorSummary != "" {
			t.block("  ", r.Controller.ErrorSummary)
		}
	}
	if len(r.Hints) > 0 {
		t.line("Hints:")
		for _, h := range r.Hints {
			t.line("  - %s", h)
		}
	}
	return t.flush(w)
}

func (r *ServiceReport) hasAdvertisement(prefix string) bool {
	return slices.ContainsFunc(r.Advertisements, func(a string) bool { return strings.HasPrefix(a, prefix) })
}

func requestLabel(what string) string {
	switch what {
	case "pool":
		return "pool"
	case "ips":
		return "IPs"
	case "sharingKey":
		return "sharing key"
	}
	return what
}

func sessionState(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// oneLine joins the lines of s with " / ".
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " / ")), " ")
}

// WriteText renders the report for a terminal.
func (r *StatusReport) WriteText(w io.Writer) error {
	t := &textWriter{}
	t.line("Namespace: %s", r.Namespace)
	t.line("")
	t.line("Configuration:")
	var rows [][]string
	for _, c := range r.Components {
		result := c.Result
		if c.Missing {
			result += " (not reported)"
		}
		summary := ""
		if c.ErrorSummary != "" {
			lines := strings.Split(strings.TrimSpace(c.ErrorSummary), "\n")
			summary = lines[0]
			if len(lines) > 1 {
				summary += fmt.Sprintf(" (+%d more)", len(lines)-1)
			}
		}
		rows = append(rows, []string{c.Kind, c.Node, result, summary})
	}
	t.table([]string{"COMPONENT", "NODE", "RESULT", "ERRORS"}, rows)
	for _, c := range r.Components {
		if strings.Contains(strings.TrimSpace(c.ErrorSummary), "\n") {
			t.line("  Errors of %s:", c.Name)
			t.block("    ", strings.TrimSpace(c.ErrorSummary))
		}
	}
	if len(r.Errors) > 0 {
		t.line("  Pools and advertisements in the API that do not compile:")
		for _, e := range r.Errors {
			t.line("    %s: %s", e.Object, e.Message)
		}
	}

	t.line("")
	if len(r.Pools) == 0 {
		t.line("Pools: none")
	} else {
		t.line("Pools:")
		rows = nil
		for _, p := range r.Pools {
			v4, v6 := "unknown", "unknown"
			if p.StatusKnown {
				v4 = usage(p.AssignedIPv4, p.AvailableIPv4)
				v6 = usage(p.AssignedIPv6, p.AvailableIPv6)
				if p.AvailableIPv6Exact != "" && p.AvailableIPv6 == math.MaxInt64 {
					v6 = count(p.AssignedIPv6) + "/" + p.AvailableIPv6Exact
				}
			}
			rows = append(rows, []string{p.Name, strings.Join(p.Addresses, ","), fmt.Sprint(p.AutoAssign), v4, v6})
		}
		t.table([]string{"NAME", "ADDRESSES", "AUTO-ASSIGN", "IPV4 USED/FREE", "IPV6 USED/FREE"}, rows)
	}

	t.line("")
	if len(r.Peers) == 0 {
		t.line("BGP peers: none")
	} else {
		t.line("BGP peers:")
		rows = nil
		for _, p := range r.Peers {
			rows = append(rows, []string{p.Name, p.Address, fmt.Sprint(p.MyASN), p.PeerASN, p.BFDProfile, p.Nodes})
		}
		t.table([]string{"NAME", "ADDRESS", "MY-ASN", "PEER-ASN", "BFD", "NODES"}, rows)
	}

	t.line("")
	if len(r.Sessions) == 0 {
		t.line("BGP sessions: no speaker reports")
	} else {
		t.line("BGP sessions:")
		rows = nil
		for _, n := range r.Sessions {
			switch {
			case !n.Reported:
				rows = append(rows, []string{n.Node, "(not reported)", "", "", "", ""})
			case len(n.Sessions) == 0:
				rows = append(rows, []string{n.Node, "(no peers)", "", "", "", ""})
			}
			for _, s := range n.Sessions {
				rows = append(rows, []string{n.Node, s.Peer, s.Endpoint(), sessionState(s.State), s.BFD, s.Error})
			}
		}
		t.table([]string{"NODE", "PEER", "ADDRESS", "STATE", "BFD", "ERROR"}, rows)
	}
	return t.flush(w)
}

// usage renders assigned/free counts.
func usage(assigned, available int64) string {
	if assigned == 0 && available == 0 {
		return "-"
	}
	return count(assigned) + "/" + count(available)
}
