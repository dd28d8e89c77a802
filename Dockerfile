# Multi-stage build: a static jqlgate binary on a minimal base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/jqlgate ./cmd/jqlgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jqlgate /usr/local/bin/jqlgate
ENV JQLGATE_ADDR=0.0.0.0:8080 \
    JQLGATE_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/jqlgate"]
CMD ["serve"]
