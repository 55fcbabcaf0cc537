# syntax=docker/dockerfile:1
# The worker image, in two stages. Both run the project's own install scripts, the ones
# scripts/test.sh runs on every CI build, so the image is built the way the tested tree is.
# (No container registry is reachable from the development machines: this file is checked
# by test/unit/deploy.test.ts, and built where Docker runs.)
#   docker build -t fraud-detector:0.1.0 .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY scripts/install-system.sh scripts/setup.sh scripts/
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src src
COPY schemas schemas
RUN scripts/setup.sh --build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY scripts/install-system.sh scripts/
RUN scripts/install-system.sh --runtime && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY schemas schemas
COPY rules rules
COPY features features
COPY models models
# A numeric non-root user, so Kubernetes can check runAsNonRoot.
USER 10001:10001
EXPOSE 9464
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
