// Package procmem trims what a long-running daemon keeps resident.
//
// On file systems that cache executables in large folios (ext4 and XFS on
// recent kernels), the kernel maps a Go binary's text and read-only data
// with 2 MiB pages: touching one function makes 2 MiB of the file part of
// the process's resident set, and a 60-90 MB binary ends up almost wholly
// resident although only a fraction of it ever runs. TrimExecutable marks
// those mappings "no huge pages" and drops the pages mapped so far (the
// package initialisers of client-go, protobuf and friends touch a lot
// once), so from then on only the pages the daemon actually uses are
// mapped, 4 KiB at a time. Nothing is lost: the pages stay in the page
// cache and fault back in when needed.
//
// Releaser returns the heap a burst of work grew to the operating system
// once the process has been quiet for a few seconds (and can trim the
// executable again then: code only the burst ran leaves the resident set).
//
// GoMemoryLimit and CgroupMemoryLimit derive the Go runtime's soft memory
// limit from the container's.
package procmem
