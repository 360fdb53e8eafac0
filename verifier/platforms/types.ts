// The platform interface: each attestation platform parses and authenticates its own evidence into claims;
// the policy decision (is this acceptable?) is made afterwards by `validate`, never inside `verify`.
import type { Platform } from '../../protocol/index.ts';

/** What a platform's evidence says, once authenticated. Hex strings are 0x-prefixed lowercase. */
export type PlatformClaims = {
  platform: Platform;
  /** true only for the software `sim` platform: proves nothing about hardware. */
  simulated: boolean;
  debug: boolean;
  /** The 64 bytes the enclave bound into its evidence (report_data / user data), 0x-hex. */
  reportData: string;
  /** Named measurements (mrtd, rtmr0..3, measurement, pcr0…, …), 0x-hex. */
  measurements: Record<string, string>;
  /** TCB status where the platform has one (UpToDate, OutOfDate, …). */
  status?: string;
  advisories?: string[];
  /** Fingerprint (0x-hex SHA-256) of the root the chain ended at. */
  rootFingerprint?: string;
};

export type VerifyContext = {
  now: Date;
  /** Platform-specific extra inputs (collateral, certificates, event log), already read from files. */
  collateral?: unknown;
};

export interface PlatformVerifier {
  readonly platform: Platform;
  /** Parse and authenticate. Throws PropsError with a stable code on any failure (fail closed). */
  verify(quote: Uint8Array, ctx: VerifyContext): Promise<PlatformClaims>;
}
