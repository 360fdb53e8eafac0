// The token side of the chain client: minting (test token), the escrow's allowance, balances.
import type { Address, Hex } from 'viem';
import { propsTokenAbi } from './abi.ts';
import type { ChainContext } from './client-context.ts';

export function tokenMethods({ addresses, publicClient, write, read }: ChainContext) {
  return {
    async mint(to: Address, amount: bigint): Promise<Hex> {
      return write({ address: addresses.token, abi: propsTokenAbi, functionName: 'mint', args: [to, amount] });
    },
    async approveEscrow(amount: bigint): Promise<Hex> {
      return write({
        address: addresses.token,
        abi: propsTokenAbi,
        functionName: 'approve',
        args: [addresses.escrow, amount],
      });
    },
    async balanceOf(owner: Address): Promise<bigint> {
      return read(
        publicClient.readContract({
          address: addresses.token,
          abi: propsTokenAbi,
          functionName: 'balanceOf',
          args: [owner],
        }),
      );
    },
  };
}
