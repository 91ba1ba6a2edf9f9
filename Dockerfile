# syntax=docker/dockerfile:1
# One image for the three programs: crm-exporter, crm-service (the reference CRM) and crm-loadgen.
# docker-compose.yml picks the program with `command`. Node.js 24 is the current LTS line; .ci/run runs the test
# suite under this exact version (it reads it from the line below), so bump both by editing only this line.
ARG NODE_IMAGE=node:24.20.0-bookworm-slim

# Build stage: every dependency (TypeScript is a dev dependency), then tsc into dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run the build before the sources are here; it runs explicitly below.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled program only (no sources, tests, benchmarks or dev tools).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts again: `prepare` needs tsc, which --omit=dev leaves out; no production dependency has install scripts.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /build/dist/src ./dist/src
# The programs on PATH under their npm bin names. The log and state folders are created owned by `node` so that the
# named volumes compose mounts there start out writable by the non-root user (Docker copies ownership on first use).
RUN ln -s /app/bin/crm-exporter.js /usr/local/bin/crm-exporter \
 && ln -s /app/bin/crm-service.js /usr/local/bin/crm-service \
 && ln -s /app/bin/crm-loadgen.js /usr/local/bin/crm-loadgen \
 && mkdir -p /var/log/crm /var/lib/crm-exporter \
 && chown node:node /var/log/crm /var/lib/crm-exporter
USER node
EXPOSE 3000 9464
CMD ["crm-exporter", "--help"]
