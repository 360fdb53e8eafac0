# Props enclave image: `props serve` (scoring API, data-owner and auditor pages) with the pinned ONNX model.
#   docker build -t props .
#   docker run -p 8080:8080 -v props-data:/data -v $PWD/provenance-policy.json:/app/policy/provenance.json:ro props
# The image is labelled SIMULATED unless run on confidential hardware (see README "Simulated vs hardware"):
# on a TDX or SEV-SNP confidential VM, mount the host's configfs (-v /sys/kernel/config:/sys/kernel/config) so the
# enclave can collect evidence through configfs-tsm.
# GPU variant (CUDA 12 host, NVIDIA container toolkit):
#   docker build --build-arg ORT_INSTALL=cuda12 -t props:cuda .   then   docker run --gpus all … props:cuda serve … --provider cuda
# Reproducible build: `docker run --rm props manifest --json` prints the code hash auditors compare with the registry.

FROM node:22.21.1-bookworm-slim AS build
WORKDIR /app
# skip: CPU onnxruntime only (no download at install); cuda12: the CUDA execution provider (downloads NVIDIA binaries).
ARG ORT_INSTALL=skip
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
# npm install, not npm ci: some optional platform packages of @foundry-rs/* are not published for every OS, so npm ci
# refuses the lockfile; install still follows it. better-sqlite3's build is allowed by package.json allowScripts.
RUN npm install --omit=dev --no-audit --no-fund \
 && if [ "$ORT_INSTALL" != "skip" ]; then npm install --no-save --onnxruntime-node-install=$ORT_INSTALL --allow-scripts=onnxruntime-node onnxruntime-node; fi
COPY protocol ./protocol
COPY verifier ./verifier
COPY enclave ./enclave
COPY oracle ./oracle
COPY contracts/index.ts contracts/abi.ts contracts/bytecode.ts contracts/client.ts contracts/local.ts contracts/p256.ts contracts/cli.ts ./contracts/
COPY cli ./cli
COPY bin ./bin
COPY sim ./sim
COPY bench ./bench
# Test support the simulation's attack scenarios and the benchmarks build on (synthetic proofs, the plain submission).
COPY testing ./testing
COPY tsconfig.json ./

FROM node:22.21.1-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data /app/policy && chown node:node /data /app/policy && cp /app/enclave/provenance-policy.json /app/policy/provenance.json
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "bin/props.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--db", "/data/props.db", "--provenance-policy", "/app/policy/provenance.json"]
