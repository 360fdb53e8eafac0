// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title MerkleLog
/// @notice RFC 9162 (Certificate Transparency v2) Merkle tree over SHA-256: leaf = sha256(0x00 || data),
/// node = sha256(0x01 || left || right). Mirrors protocol/merkle.ts, so a proof made off chain verifies here.
library MerkleLog {
    /// @notice The RFC 9162 leaf hash of a 32-byte datum.
    function leafHash(bytes32 data) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), data));
    }

    /// @notice Root implied by an inclusion proof (RFC 9162 §2.1.3.2), or false when the proof is malformed
    /// for this index and size. The caller compares the root it gets with a trusted one.
    function rootFromInclusionProof(uint256 index, uint256 size, bytes32 leaf, bytes32[] calldata proof)
        internal
        pure
        returns (bool ok, bytes32 root)
    {
        if (index >= size) return (false, bytes32(0));
        uint256 fn = index;
        uint256 sn = size - 1;
        bytes32 r = leaf;
        uint256 len = proof.length;
        for (uint256 i = 0; i < len; ++i) {
            if (sn == 0) return (false, bytes32(0));
            bytes32 p = proof[i];
            if (fn & 1 == 1 || fn == sn) {
                r = sha256(abi.encodePacked(bytes1(0x01), p, r));
                if (fn & 1 == 0) {
                    // Right border of the tree: climb until fn is a right child again.
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = sha256(abi.encodePacked(bytes1(0x01), r, p));
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) return (false, bytes32(0));
        return (true, r);
    }
}
