// The collect side of an attestation platform: asks the platform (hardware, or the simulator) for evidence over
// 64 bytes of report_data. Verification lives in verifier/ — the enclave never judges its own evidence.
import type { Hex, Manifest, Platform } from '../../protocol/index.ts';

export type CollectInput = { reportData: Uint8Array; manifest: Manifest; manifestHash: Hex };
export type Collected = { quote: Uint8Array; collateral: unknown };

export interface AttestationPlatform {
  readonly platform: Platform;
  collect(input: CollectInput): Promise<Collected>;
}
