package benchkit

import (
	"fmt"
	"io"
)

// Row is one line of a benchmark's final table: the measurement, its
// value, the target and MetalLB's figure; an empty target or MetalLB
// figure prints as "-". (An array, so that the programs' many rows can be
// written positionally.)
type Row [4]string

// PrintTable writes rows as a Markdown table (measurement, value, target,
// MetalLB) after a blank line; an empty target or MetalLB cell shows "-".
// No rows print nothing.
func PrintTable(w io.Writer, rows []Row) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measurement | value | target | MetalLB |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r[0], r[1], dash(r[2]), dash(r[3]))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
