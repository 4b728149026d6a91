# syntax=docker/dockerfile:1
# One image for every Nexus process: the API (CMD), the worker and the one-shot migration
# (docker-compose.yml runs all three from it), and the operator commands, compiled to dist/scripts:
#   docker compose run --rm -T api node dist/scripts/create-admin.js --email you@example.com --password-stdin < password.txt
#   docker compose run --rm api node dist/scripts/migrate.js status        (also seed.js, jobs.js; each answers --help)

# --- build: compile TypeScript with the dev toolchain ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY shell ./shell
COPY db ./db
COPY scripts ./scripts
RUN npm run build

# --- runtime: production dependencies and compiled output only, as a non-root user ---
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/.data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR must be writable by `node`: without CLOUDINARY_URL uploaded images go to $DATA_DIR/media.
# The directory exists in the image owned by node, so a named volume mounted there (docker-compose.yml:
# media) starts out owned by node too. The code in dist/ stays root-owned: the process cannot change it.
RUN mkdir -p /app/.data/media && chown -R node:node /app/.data
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/shell/server.js"]
