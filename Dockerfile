# The cbridge managed plugin, for hosts that can pull debian images. The
# final stage's filesystem is the plugin's rootfs; config.json (in the
# repository root) goes beside it. Without a registry, scripts/plugin.sh
# builds the same plugin from a local binary.
#
#   docker build -t cbridge-rootfs .
#   id=$(docker create cbridge-rootfs)
#   rm -rf build/plugin && mkdir -p build/plugin/rootfs
#   docker export "$id" | tar -x -C build/plugin/rootfs
#   docker rm "$id"
#   cp config.json build/plugin/
#   docker plugin create cbridge:latest build/plugin
#   mkdir -p /var/lib/cbridge                # the "state" mount's source
#   docker plugin enable cbridge:latest
#   docker network create -d cbridge:latest --ipam-driver cbridge:latest mynet
#
# Settings (while the plugin is disabled), e.g.
#   docker plugin set cbridge:latest LOG_LEVEL=debug state.source=/srv/cbridge \
#       DEFAULT_ADDRESS_POOLS=base=10.10.0.0/16,size=24 DNS_UPSTREAMS=192.0.2.53
# and containers use cbridge's DNS responder with --dns 169.254.53.53.

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	gcc libc6-dev make pkg-config libmicrohttpd-dev libjansson-dev \
	libnl-3-dev libnl-route-3-dev libnl-nf-3-dev libiptc-dev libnftables-dev \
	libnftnl-dev libmnl-dev \
	check \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# `make clean` drops objects copied in from the host's work tree.
RUN make clean && make -j"$(nproc)" build/cbridge

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	libmicrohttpd12 libjansson4 libnl-3-200 libnl-route-3-200 libnl-nf-3-200 libip4tc2 \
	libip6tc2 libnftables1 libnftnl11 libmnl0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/cbridge /usr/bin/cbridge
# Mount points and working directories config.json expects.
RUN mkdir -p /run/docker/plugins /var/lib/cbridge /host/proc /host/run \
	/host/usr/bin /host/docker-exec /host/etc /tmp \
 && chmod 1777 /tmp
ENTRYPOINT ["/usr/bin/cbridge", "--socket", "/run/docker/plugins/cbridge.sock"]
