# Multi-stage build: a static jqlgate binary on a minimal base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/jqlgate ./cmd/jqlgate
# The data directory, made here because the distroless image has no shell:
# copied below owned by nonroot (uid 65532), so the embedded store can
# create and lock its files in it. A named volume mounted on /data starts
# as a copy of it, ownership included.
RUN mkdir -m 0700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jqlgate /usr/local/bin/jqlgate
COPY --from=build --chown=65532:65532 /out/data /data
ENV JQLGATE_ADDR=0.0.0.0:8080 \
    JQLGATE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
# nonroot:nonroot, by number so that runAsNonRoot checks can verify it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/jqlgate"]
CMD ["serve"]
