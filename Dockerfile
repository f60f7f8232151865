# syntax=docker/dockerfile:1
# tiktok-dl: build on the full Node image, run on the slim one with production dependencies only.
# Node 24, the active LTS and the only runtime the project supports (package.json "engines").

FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS runtime
# glibc's malloc raises its mmap threshold after each large block it frees (page bodies, zlib states),
# then serves them from its heap, which fragments between the cache's small entries: a fixed threshold
# keeps a further cached post at about 3 KiB of RSS on Node 24 instead of 6 (docs/performance.md).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY web ./web
# The image's unprivileged user; the service writes nothing but its logs (to stdout) and temp files.
# Watches without Redis are kept in one database file here: mount a volume on it to keep them.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form, node itself as PID 1's child under --init (docker run --init, or init: true in compose):
# SIGTERM reaches node directly and the server drains its requests before it exits.
CMD ["node", "dist/src/server.js"]
