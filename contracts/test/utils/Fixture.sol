// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Vm} from "./Vm.sol";
import {PropsRegistry} from "../../src/PropsRegistry.sol";
import {PropsEscrow} from "../../src/PropsEscrow.sol";
import {PropsToken} from "../../src/PropsToken.sol";

/// @notice Shared deployment and signing helpers: governance, five auditors (3-of-5), one sim pipeline, enclave keys.
abstract contract Fixture {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    // P-256 group order and half of it, for low-s normalisation.
    uint256 internal constant N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551;

    PropsRegistry internal registry;
    PropsEscrow internal escrow;
    PropsToken internal token;

    address internal governance = address(0x60);
    address internal lender = address(0x1e);
    address internal dataOwner = address(0xd0);
    address internal operator = address(0x0b);
    uint256[5] internal auditorKeys;
    bytes32 internal pipelineId;
    uint256 internal constant ENCLAVE_KEY = 0xE1C1A5E;
    bytes32 internal keyId;
    bytes32 internal qx;
    bytes32 internal qy;

    uint64 internal constant T0 = 1_800_000_000;
    /// @dev The input commitment a test lender's jobs pay for (its consent's).
    bytes32 internal constant INPUTS = keccak256("inputs");

    /// @dev forge prints this event under -vv (the forge-std convention).
    event log_named_uint(string key, uint256 val);

    function _deploy() internal {
        vm.warp(T0);
        registry = new PropsRegistry(governance, true);
        token = new PropsToken();
        escrow = new PropsEscrow(token, registry);
        vm.startPrank(governance);
        for (uint256 i = 0; i < 5; ++i) {
            auditorKeys[i] = 0xA0D17 + i;
            registry.setAuditor(vm.addr(auditorKeys[i]), true);
        }
        registry.setQuorum(3);
        pipelineId = registry.registerPipeline(keccak256("code"), keccak256("model"), keccak256("policy"), "sim");
        vm.stopPrank();
        (qx, qy, keyId) = _pub(ENCLAVE_KEY);
        token.mint(lender, 1e15);
        vm.prank(lender);
        token.approve(address(escrow), type(uint256).max);
    }

    function _pub(uint256 sk) internal pure returns (bytes32 x, bytes32 y, bytes32 id) {
        (uint256 ux, uint256 uy) = vm.publicKeyP256(sk);
        x = bytes32(ux);
        y = bytes32(uy);
        id = keccak256(abi.encodePacked(x, y));
    }

    function _reg(bytes32 id, bytes32 pid, uint64 expiresAt) internal pure returns (PropsRegistry.KeyRegistration memory) {
        return PropsRegistry.KeyRegistration(pid, id, keccak256("evidence"), keccak256("ear"), expiresAt);
    }

    /// @dev Auditor signatures sorted by signer address, as registerKey requires.
    function _auditorSigs(PropsRegistry.KeyRegistration memory reg, uint256 count) internal view returns (bytes[] memory sigs) {
        bytes32 digest = registry.keyRegistrationDigest(reg);
        uint256[] memory sk = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) sk[i] = auditorKeys[i];
        for (uint256 i = 0; i < count; ++i) {
            for (uint256 j = i + 1; j < count; ++j) {
                if (vm.addr(sk[j]) < vm.addr(sk[i])) (sk[i], sk[j]) = (sk[j], sk[i]);
            }
        }
        sigs = new bytes[](count);
        for (uint256 i = 0; i < count; ++i) {
            (uint8 v, bytes32 r, bytes32 s) = vm.sign(sk[i], digest);
            sigs[i] = abi.encodePacked(r, s, v);
        }
    }

    function _registerKey(uint256 sk, uint64 expiresAt) internal returns (bytes32 id) {
        (,, id) = _pub(sk);
        PropsRegistry.KeyRegistration memory reg = _reg(id, pipelineId, expiresAt);
        registry.registerKey(reg, _auditorSigs(reg, 3));
    }

    /// @dev The enclave's on-chain signature: P-256 over sha256(digest), s normalised low.
    function _p256(uint256 sk, bytes32 digest) internal pure returns (bytes32 r, bytes32 s) {
        (r, s) = vm.signP256(sk, sha256(abi.encodePacked(digest)));
        if (uint256(s) > N / 2) s = bytes32(N - uint256(s));
    }

    /// @dev The lender commits to its nonce by hash; the nonce itself goes only to the enclave.
    function _open(bytes32 nonce, uint96 a, uint96 b, uint64 deadline) internal returns (uint256 jobId) {
        vm.prank(lender);
        jobId = escrow.open(pipelineId, keccak256(abi.encode(nonce)), INPUTS, dataOwner, a, operator, b, deadline);
    }

    function _result(uint256 jobId, bytes32 nonce) internal view returns (PropsEscrow.PropsResult memory) {
        return PropsEscrow.PropsResult(
            bytes32(jobId), nonce, pipelineId, keccak256(abi.encode("result", jobId)), INPUTS, 712, true, T0
        );
    }

    function _signResult(uint256 sk, PropsEscrow.PropsResult memory res) internal view returns (bytes32 r, bytes32 s) {
        return _p256(sk, escrow.resultDigest(res));
    }

    function _postCheckpoint(uint256 sk, uint64 size, bytes32 root) internal {
        (bytes32 x, bytes32 y, bytes32 id) = _pub(sk);
        (bytes32 r, bytes32 s) = _p256(sk, registry.checkpointDigest(id, size, root));
        registry.postCheckpoint(x, y, size, root, r, s);
    }

    // RFC 9162 reference helpers (recursive, for tests only).
    function _leaf(bytes32 d) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), d));
    }

    function _node(bytes32 l, bytes32 r) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), l, r));
    }

    function _split(uint256 n) internal pure returns (uint256 k) {
        k = 1;
        while (k << 1 < n) k <<= 1;
    }

    function _mth(bytes32[] memory leaves, uint256 from, uint256 to) internal pure returns (bytes32) {
        uint256 n = to - from;
        if (n == 1) return leaves[from];
        uint256 k = _split(n);
        return _node(_mth(leaves, from, from + k), _mth(leaves, from + k, to));
    }

    function _path(bytes32[] memory leaves, uint256 m, uint256 from, uint256 to) internal pure returns (bytes32[] memory p) {
        uint256 n = to - from;
        if (n == 1) return new bytes32[](0);
        uint256 k = _split(n);
        bytes32[] memory sub;
        bytes32 sib;
        if (m < k) {
            sub = _path(leaves, m, from, from + k);
            sib = _mth(leaves, from + k, to);
        } else {
            sub = _path(leaves, m - k, from + k, to);
            sib = _mth(leaves, from, from + k);
        }
        p = new bytes32[](sub.length + 1);
        for (uint256 i = 0; i < sub.length; ++i) p[i] = sub[i];
        p[sub.length] = sib;
    }
}
