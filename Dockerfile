# syntax=docker/dockerfile:1
# The az-evac image: worker, console and CLI in one image, compiled JavaScript on plain node.
#   worker:   node /app/dist/worker/main.js       (the Helm chart's worker Deployment)
#   console:  az-evac console --host 0.0.0.0       (the chart's console Deployment)
#   CLI:      az-evac <command>                    (default: --help)
# The build steps live in scripts/image.sh, which CI runs the same way without Docker
# (`scripts/image.sh build` + `smoke`, phase `image` of .ci/run): what this image holds is built
# and started on every CI run. Build: docker build -t az-evac:0.1.0 .
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN bash scripts/image.sh build /stage

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    AZ_EVAC_TIERS=/app/tiers.yaml \
    AZ_EVAC_STATE=/var/lib/az-evac \
    AZ_EVAC_CONSOLE_HOST=0.0.0.0 \
    AZ_EVAC_WORKER_HEALTH_HOST=0.0.0.0 \
    AZ_EVAC_WORKER_HEALTH_PORT=8461
WORKDIR /app
COPY --from=build /stage/ /app/
RUN ln -s /app/bin/az-evac /usr/local/bin/az-evac \
 && mkdir -p /var/lib/az-evac && chown node:node /var/lib/az-evac
# The node image's unprivileged user (uid 1000); the chart runs it read-only with a writable state volume.
USER 1000:1000
EXPOSE 8460 8461
ENTRYPOINT ["az-evac"]
CMD ["--help"]
