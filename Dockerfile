# syntax=docker/dockerfile:1
# Images for compose.yaml and compose.cluster.yaml: `app` (api, shipper) on Node 24 LTS, `worker`
# on the official Zeek LTS image with Node 24's binary copied in (zeek/zeek:lts is Debian bookworm
# like node:24-bookworm-slim, so the binary runs as is). Every CMD is node itself in exec form:
# `docker stop` signals the service, which drains, not a shell or npm.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY shared shared
COPY services services
COPY scripts scripts
RUN npm run -s build && npm prune --omit=dev

FROM node:24-bookworm-slim AS app
WORKDIR /app
ENV NODE_ENV=production BROCAPI_DATA_DIR=/data
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN mkdir -p /data && chown node:node /data
USER node
CMD ["node", "--initial-old-space-size=64", "dist/services/api/main.js"]

FROM zeek/zeek:lts AS worker
COPY --from=node:24-bookworm-slim /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
ENV NODE_ENV=production BROCAPI_DATA_DIR=/data ZEEK_BIN=/usr/local/zeek/bin/zeek
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN mkdir -p /data
CMD ["node", "--initial-old-space-size=64", "dist/services/worker/main.js"]
