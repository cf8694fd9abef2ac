# Images of the FerroLB controller and speaker, drop-in replacements for
# quay.io/metallb/controller (/controller) and quay.io/metallb/speaker
# (/speaker):
#
#   docker build --target controller -t ghcr.io/ferrolb/controller:dev .
#   docker build --target speaker -t ghcr.io/ferrolb/speaker:dev .
#
# Both binaries are static (no cgo), built once in the "build" stage.
# test/manifests runs the same `go build` as below and checks the result
# is statically linked and stripped.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: this layer is reused while go.mod and go.sum do not change.
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
ARG TARGETOS=linux
ARG TARGETARCH
ENV CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} GOFLAGS=-buildvcs=false
RUN go build -trimpath -ldflags "-s -w" -o /out/ ./cmd/controller ./cmd/speaker

# The controller runs as an unprivileged user (the manifests also set
# runAsUser 65534) on a read-only root file system.
FROM gcr.io/distroless/static:nonroot AS controller
COPY --from=build /out/controller /controller
USER 65534:65534
ENTRYPOINT ["/controller"]

# The speaker runs as root: the NET_RAW capability the manifests grant it
# (raw ARP/NDP sockets) is only effective for root.
FROM gcr.io/distroless/static:latest AS speaker
COPY --from=build /out/speaker /speaker
USER 0:0
ENTRYPOINT ["/speaker"]
