# The Prometheus projects' layout: the binary comes from `promu crossbuild`
# (or `make crossbuild` without promu) into .build/<os>-<arch>/, and the image
# only copies it onto the Prometheus busybox base.
ARG ARCH="amd64"
ARG OS="linux"
FROM quay.io/prometheus/busybox-${OS}-${ARCH}:latest
LABEL org.opencontainers.image.title="zookeeper_exporter" \
      org.opencontainers.image.description="Prometheus exporter and alert rules for Apache ZooKeeper ensembles" \
      org.opencontainers.image.source="https://github.com/quorumwatch/zookeeper_exporter" \
      org.opencontainers.image.licenses="Apache-2.0"

ARG ARCH="amd64"
ARG OS="linux"
COPY .build/${OS}-${ARCH}/zookeeper_exporter /bin/zookeeper_exporter

EXPOSE 9141
USER nobody
ENTRYPOINT [ "/bin/zookeeper_exporter" ]
