# Props enclave image. Build: docker build -t props .   Run (simulated mode): docker run -p 8080:8080 props
# On confidential hardware (TDX / SEV-SNP guest with configfs-tsm), run with the host's
# /sys/kernel/config mounted and PROPS_PLATFORM set; see README "Sim vs hardware".
# GPU variant: build with --build-arg ORT_INSTALL=cuda12 on a CUDA 12 host.

FROM node:22.21.1-bookworm-slim AS build
WORKDIR /app
ARG ORT_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ORT_INSTALL}
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY protocol ./protocol
COPY verifier ./verifier
COPY enclave ./enclave
COPY oracle ./oracle
COPY contracts ./contracts
COPY cli ./cli
COPY bin ./bin
COPY sim ./sim

FROM node:22.21.1-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "bin/props.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
