# hstreamlite: one process, data on a volume at /data, gRPC on 6570.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# zstd-napi compiles its bundled zstd when no prebuilt binary can be fetched
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY storage ./storage
COPY sql ./sql
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HSTREAM_HOST=0.0.0.0 \
    HSTREAM_PORT=6570 \
    HSTREAM_DATA_DIR=/data
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
# the web console's files (served on --http-port / HSTREAM_HTTP_PORT)
COPY console ./console
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 6570
# Set HSTREAM_ADVERTISED_HOST to the name clients use to reach the container.
CMD ["node", "dist/src/main.js"]
