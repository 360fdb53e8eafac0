// Enclave side for AWS Nitro: a documented stub. Nitro evidence comes from the NSM device (/dev/nsm) through an
// ioctl, which Node cannot issue without a native addon (aws-nitro-enclaves-nsm-api is Rust/C); there is no way to
// exercise it outside a Nitro enclave, so nothing here pretends to. Verification of Nitro documents is complete
// (verifier/platforms/nitro/).
import { PropsError } from '../../protocol/index.ts';

export async function collect(_reportData: Uint8Array): Promise<never> {
  throw new PropsError('ERR_PLATFORM_COLLECT_UNAVAILABLE', {
    detail: 'nitro: needs the NSM ioctl (native addon), not built',
  });
}
