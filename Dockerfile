# The mirror in one image: `docker compose up` runs it beside Postgres (see docker-compose.yml).
# Two stages: the first installs production dependencies with pnpm, the second holds only those,
# the sources and migrations (.dockerignore keeps out .env*, .mirror/, node_modules, tests and
# benches), and runs as the unprivileged `node` user.

FROM node:20-slim AS deps
WORKDIR /app
RUN npm install --global --no-audit --no-fund pnpm@10.34.8
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY apps/ingest/package.json apps/ingest/
COPY apps/api/package.json apps/api/
COPY apps/mirror/package.json apps/mirror/
COPY packages/catalog/package.json packages/catalog/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/ecwid/package.json packages/ecwid/
COPY packages/ecwid-sim/package.json packages/ecwid-sim/
COPY packages/projector/package.json packages/projector/
COPY bench/package.json bench/
# The CLI and what it imports, without devDependencies (tsx, the TypeScript loader, is one of the
# CLI's own dependencies); the benches' dependencies stay out.
RUN pnpm install --frozen-lockfile --prod --filter "@mirror/cli..."

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production PORT=3000 LOG_FORMAT=json
COPY --from=deps --chown=node:node /app ./
COPY --chown=node:node . .
USER node
# tsx is the CLI's dependency, installed under apps/mirror: node resolves `--import tsx` from here.
WORKDIR /app/apps/mirror
EXPOSE 3000
# /readyz answers 200 once the database answers and is migrated (503 with the reason otherwise).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node directly, not through pnpm: it receives SIGTERM from `docker stop` and shuts down cleanly.
CMD ["node", "--import", "tsx", "src/cli.ts", "start"]
