# Builds the `baton` and `baton-mcp` binaries with the pinned Deno and ships
# them in a slim image. Mount the consuming repository at /repo.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY tools/package.json tools/package-lock.json tools/
RUN npm install --prefix tools --no-save --no-audit --no-fund
COPY . .
RUN tools/node_modules/.bin/deno install --frozen && tools/node_modules/.bin/deno task compile

FROM debian:bookworm-slim
# git: baton run gives each agent a worktree.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/dist/baton /src/dist/baton-mcp /usr/local/bin/
WORKDIR /repo
ENTRYPOINT ["baton-mcp"]
