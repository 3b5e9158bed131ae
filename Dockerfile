# Build: Swift 6 on Debian 12 with the two C libraries' headers.
FROM swift:6.0-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libwebsockets-dev libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN swift build -c release --product seatcast --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/seatcast" /seatcast

# Run: the binary, the page, the two shared libraries, curl for the healthcheck.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libwebsockets17 libpq5 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /seatcast /usr/local/bin/seatcast
COPY Public /srv/seatcast/Public
WORKDIR /srv/seatcast
ENV PORT=8080 PUBLIC_DIR=/srv/seatcast/Public
EXPOSE 8080
USER nobody
ENTRYPOINT ["seatcast"]
CMD ["serve", "--migrate", "--seed-demo"]
