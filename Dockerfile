# The mirror in one image: `docker compose up` runs it beside Postgres (see docker-compose.yml).
FROM node:20-slim
WORKDIR /app
RUN npm install --global --no-audit --no-fund pnpm@10.34.8
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY apps/ingest/package.json apps/ingest/
COPY apps/api/package.json apps/api/
COPY apps/mirror/package.json apps/mirror/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/ecwid/package.json packages/ecwid/
COPY packages/ecwid-sim/package.json packages/ecwid-sim/
COPY packages/projector/package.json packages/projector/
COPY bench/package.json bench/
RUN pnpm install --frozen-lockfile
COPY . .
ENV NODE_ENV=production PORT=3000 LOG_FORMAT=json
EXPOSE 3000
# Node directly, not through pnpm: it receives SIGTERM from `docker stop` and shuts down cleanly.
CMD ["node", "--import", "tsx", "apps/mirror/src/cli.ts", "start"]
