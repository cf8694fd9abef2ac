// Package logging builds the slog logger from MetalLB's --log-level values
// (all, debug, info, warn, error, none) and bridges it to logr for
// controller-runtime and client-go.
package logging
