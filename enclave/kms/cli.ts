// `props kms`: the key-release service of one app, as a simulated enclave. The first KMS generates the app's fleet
// secrets inside itself; `--join URL` makes a replica, which gets them from a running KMS by the same attested release
// instances use. Pipelines are approved by the registry on chain (--chain-rpc, --registry), or, for a local trial,
// listed with --approve (said so at start). Secrets live in memory only: the replicas are the copies.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import {
  address,
  APP_NAME,
  appIdOf,
  hex32,
  pipelineId,
  PropsError,
  type Command,
  type Hex,
  type WitnessedHead,
} from '../../protocol/index.ts';
import { loadDefaultPolicy, parsePolicyText } from '../../verifier/index.ts';
import { REPO_ROOT } from '../boot.ts';
import { computeCodeHash } from '../code-hash.ts';
import { systemRandom } from '../keys.ts';
import { loadPipelinePolicy, pipelinePolicyHash } from '../pipeline-policy.ts';
import { createSimPlatform } from '../platforms/sim.ts';
import { createKmsApp } from './app.ts';
import { connectKms } from './client.ts';
import { bootKmsIdentity, type KmsPolicy } from './identity.ts';
import { dataKeyPair, generateFleetSecrets, type FleetSecrets } from './secrets.ts';
import { createKms, type Approvals } from './service.ts';

const USAGE = `usage: props kms [--port N] [--host ADDR] [--app NAME] [--join URL] (--chain-rpc URL --registry ADDRESS | --approve PIPELINE_ID … | --approve-shipped) [--allow-simulated] [--policy FILE] [--quiet]
  --app NAME            the app whose fleet secrets this KMS holds (default props-credit)
  --join URL            a replica: get the app's secrets from the KMS at URL (attested release), instead of making them
  --chain-rpc, --registry  release only to pipelines the registry approves for the app, asked at every release
  --approve PIPELINE_ID    a local trial without a chain: release to these pipelines (repeatable)
  --approve-shipped        a local trial: release to the simulated pipeline this checkout ships (its code, pinned
                           model and pipeline policy)
  --allow-simulated     accept simulated evidence from instances and replicas (never in production)
  --policy FILE         the verifier policy instance evidence must pass (default: the shipped default policy)`;

/** Reads app approvals from a registry (the dispatcher injects the chain client). */
export type ApprovalsReader = (o: { rpcUrl: string; registry: Hex }) => Promise<Approvals>;

type KmsOptions = {
  port: number;
  host: string;
  app: string;
  join: string | undefined;
  chain: { rpcUrl: string; registry: Hex } | undefined;
  approve: Hex[];
  allowSimulated: boolean;
  policyFile: string | undefined;
  quiet: boolean;
};

/** The pipeline `props serve` from this checkout runs: its code, the pinned model and pipeline policy, platform sim. */
function shippedPipelineId(): Hex {
  const policy = loadPipelinePolicy();
  return pipelineId({
    codeHash: computeCodeHash(REPO_ROOT).codeHash,
    modelHash: policy.modelHash,
    policyHash: pipelinePolicyHash(policy),
    platform: 'sim',
  });
}

function parseKmsOptions(argv: string[]): KmsOptions | string {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      app: { type: 'string', default: 'props-credit' },
      join: { type: 'string' },
      'chain-rpc': { type: 'string' },
      registry: { type: 'string' },
      approve: { type: 'string', multiple: true },
      'approve-shipped': { type: 'boolean' },
      'allow-simulated': { type: 'boolean' },
      policy: { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return '--port must be 0..65535';
  if (!APP_NAME.test(values.app)) return '--app must be 1-64 of a-z 0-9 . _ -, starting with a letter or digit';
  if (values.join !== undefined && !/^https?:\/\/\S+$/.test(values.join)) return '--join takes an http(s) URL';
  const rpcUrl = values['chain-rpc'];
  const registry = values.registry;
  if (
    (rpcUrl === undefined) !== (registry === undefined) ||
    (registry !== undefined && !address.safeParse(registry).success) ||
    (rpcUrl !== undefined && !/^https?:\/\/\S+$/.test(rpcUrl))
  )
    return '--chain-rpc URL and --registry ADDRESS go together';
  const approve = values.approve ?? [];
  if (approve.some((p) => !hex32.safeParse(p).success)) return '--approve takes a pipeline id (0x + 64 hex)';
  if (values['approve-shipped']) approve.push(shippedPipelineId());
  if ((rpcUrl === undefined) === (approve.length === 0)) return 'either --chain-rpc/--registry or --approve';
  return {
    port,
    host: values.host,
    app: values.app,
    join: values.join,
    chain: rpcUrl !== undefined ? { rpcUrl, registry: registry as Hex } : undefined,
    approve: approve as Hex[],
    allowSimulated: values['allow-simulated'] === true,
    policyFile: values.policy,
    quiet: values.quiet === true,
  };
}

export function kmsCommandWith(extras: { approvals?: ApprovalsReader }): Command {
  return {
    summary: "the key-release service: an app's fleet secrets, released by attestation to approved pipelines",
    usage: USAGE,
    async run(argv) {
      const o = parseKmsOptions(argv);
      if (typeof o === 'string') {
        process.stderr.write(`props kms: ${o}\n${USAGE}\n`);
        return 2;
      }
      if (o.chain && !extras.approvals) {
        process.stderr.write(`props kms: this build has no chain client for --chain-rpc\n`);
        return 2;
      }
      const approvals: Approvals =
        o.chain && extras.approvals
          ? await extras.approvals(o.chain)
          : async (_app, pipelineId) => o.approve.includes(pipelineId);
      await startKms(o, approvals);
      return 0;
    },
  };
}

async function startKms(o: KmsOptions, approvals: Approvals): Promise<void> {
  const clock = () => new Date();
  const policy: KmsPolicy = {
    evidence: o.policyFile ? parsePolicyText(readFileSync(o.policyFile, 'utf8')) : loadDefaultPolicy(),
    allowSimulated: o.allowSimulated,
  };
  const app = appIdOf(o.app);
  const codeHash = computeCodeHash(REPO_ROOT).codeHash;
  const platform = await createSimPlatform({ random: systemRandom });
  let secrets: FleetSecrets | undefined;
  let heads: readonly WitnessedHead[] = [];
  let dataKey;
  let peer: Awaited<ReturnType<typeof connectKms>> | undefined;
  if (o.join) {
    // A replica checks its peer as an instance checks a KMS (a KMS of this code, for this app), then asks it.
    peer = await connectKms({ urls: [o.join], app, codeHash, policy, clock });
    dataKey = peer.dataKey;
  } else {
    secrets = generateFleetSecrets(systemRandom);
    dataKey = (await dataKeyPair(secrets)).publicJwk;
  }
  const identity = await bootKmsIdentity({ platform, random: systemRandom, codeHash, policy, dataKey });
  if (peer) {
    await peer
      .fleetBoot((s, h) => {
        secrets = s;
        heads = h;
      })
      .obtain({
        evidence: identity.evidence,
        evidenceDigest: identity.evidenceDigest,
        manifest: identity.manifest,
        releaseKey: identity.releaseKey,
        signJws: identity.signJws,
      });
  }
  if (!secrets) throw new PropsError('ERR_KMS_NOT_READY');
  const kms = createKms({ identity, app, policy, secrets, approvals, clock, random: systemRandom, heads });
  const logger = o.quiet ? () => {} : (e: object) => process.stderr.write(`${JSON.stringify(e)}\n`);
  const server = serve({ fetch: createKmsApp(kms, logger).fetch, port: o.port, hostname: o.host }, (info) => {
    process.stdout.write(
      `${JSON.stringify({
        url: `http://${o.host}:${info.port}`,
        port: info.port,
        app: o.app,
        appId: app,
        role: o.join ? 'replica' : 'first',
        evidenceDigest: identity.evidenceDigest,
        dataKey: dataKey.kid,
        simulated: true,
        allowSimulated: o.allowSimulated,
        approvals: o.chain ? 'registry' : { listed: o.approve, note: 'a local trial, not governance' },
      })}\n`,
    );
  });
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
