# One image per service, all from this file:
#   docker build --build-arg SERVICE=gateway -t trackme/gateway .
# SERVICE is one of gateway, clients, read, metrics. The `build` stage keeps the dev
# dependencies (tsx), which is what the one-shot topics/migrations job in
# docker-compose.yml runs from (build target `build`).
#
# Plain Dockerfile syntax only (no RUN --mount, no COPY --parents) so it also builds with
# the classic builder used by docker-compose v1.
# The same Node as `.node-version`, which npm start and npm test run on (a test checks it).
ARG NODE_IMAGE=node:24.19.0-bookworm-slim

# --- manifests: only the package.json files and the lock, so `npm ci` stays cached until
# a dependency changes (and new workspaces under libs/ or services/ are picked up).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /out \
 && cp package.json package-lock.json /out/ \
 && for f in libs/*/package.json services/*/package.json web/package.json; do \
      mkdir -p "/out/$(dirname "$f")" && cp "$f" "/out/$f"; \
    done

# --- build: full install (dev dependencies included) and the TypeScript build.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
COPY --from=manifests /out/ ./
RUN npm ci && npm cache clean --force
COPY . .
# the web console's static assets (web/dist), which the gateway serves
RUN npx tsc -b && npm run --silent build -w web

# --- prune: production dependencies, compiled output, runtime assets.
FROM build AS prune
RUN npm prune --omit=dev \
 && npm cache clean --force \
 && rm -rf libs/*/src libs/*/test services/*/src services/*/test \
           libs/*/tsconfig*.json services/*/tsconfig*.json tsconfig*.json web/src web/tsconfig.json \
           eslint.config.* vitest.config.* deploy/local docs

# --- runtime: non-root, one service selected by SERVICE.
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    HOST=0.0.0.0
WORKDIR /app
# Files stay owned by root and read-only for the `node` user the process runs as.
COPY --from=prune /app /app
RUN case "$SERVICE" in gateway|clients|read|metrics) ;; \
      *) echo "build with --build-arg SERVICE=gateway|clients|read|metrics (got '$SERVICE')" >&2; exit 1 ;; \
    esac \
 && test -f "services/$SERVICE/dist/main.js"
USER node
# Liveness only; docker-compose.yml overrides it with a /readyz check. PORT defaults to the
# service's own default port when unset.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const d={gateway:8080,clients:8081,read:8082,metrics:8083};const p=process.env.PORT||d[process.env.SERVICE];fetch('http://127.0.0.1:'+p+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# sh expands SERVICE, exec hands PID 1 to node so SIGTERM reaches it directly.
CMD ["sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
