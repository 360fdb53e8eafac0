// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {PropsRegistry} from "../src/PropsRegistry.sol";
import {PropsEscrow} from "../src/PropsEscrow.sol";
import {MerkleLog} from "../src/MerkleLog.sol";
import {Vm} from "./utils/Vm.sol";

contract PropsEscrowTest is Fixture {
    bytes32 internal constant NONCE = keccak256("nonce-1");

    function setUp() public {
        _deploy();
        _registerKey(ENCLAVE_KEY, T0 + 30 days);
    }

    function testReleaseSignedResultPaysPayees() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        vm.assertEq(token.balanceOf(address(escrow)), 1000, "escrowed");
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        escrow.release(jobId, res, qx, qy, r, s);
        vm.assertEq(token.balanceOf(dataOwner), 700, "data owner");
        vm.assertEq(token.balanceOf(operator), 300, "operator");
        vm.assertEq(token.balanceOf(address(escrow)), 0, "escrow empty");
    }

    function testReleaseTwiceReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        escrow.release(jobId, res, qx, qy, r, s);
        vm.expectRevert(abi.encodeWithSelector(PropsEscrow.EscrowJobNotOpen.selector, jobId));
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testReleaseUnregisteredKeyReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 x, bytes32 y, bytes32 id) = _pub(0xBAD);
        (bytes32 r, bytes32 s) = _signResult(0xBAD, res);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyUnknown.selector, id));
        escrow.release(jobId, res, x, y, r, s);
    }

    function testReleaseRevokedKeyReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        vm.prank(governance);
        registry.revokeKey(keyId);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyRevoked.selector, keyId));
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testReleaseExpiredKeyReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 60 days);
        vm.warp(T0 + 30 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyExpired.selector, keyId));
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testReleaseRevokedPipelineReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        vm.prank(governance);
        registry.revokePipeline(pipelineId);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryPipelineInactive.selector, pipelineId));
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testReleaseResultForOtherJobReverts() public {
        uint256 jobA = _open(NONCE, 700, 300, T0 + 1 days);
        uint256 jobB = _open(NONCE, 7000, 3000, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobA, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        vm.expectRevert(abi.encodeWithSelector(PropsEscrow.EscrowWrongJob.selector, jobB));
        escrow.release(jobB, res, qx, qy, r, s);
    }

    /// @dev A result signed by the registered key, whose terms (pipeline, nonce, inputs) are not the job's.
    function _expectTermsMismatch(uint256 jobId, PropsEscrow.PropsResult memory res) internal {
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        vm.expectRevert(abi.encodeWithSelector(PropsEscrow.EscrowTermsMismatch.selector, jobId));
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testReleaseWrongNonceReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, keccak256("stale nonce"));
        _expectTermsMismatch(jobId, res);
    }

    /// @dev The job id is a public counter: a result another lender got for its own borrower's inputs, naming this
    /// job, must not release it.
    function testReleaseResultForOtherInputsReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        res.inputCommitment = keccak256("another borrower's inputs");
        _expectTermsMismatch(jobId, res);
    }

    /// @dev Another lender with the borrower's consent for the same inputs, naming this job: all it can learn of the
    /// nonce before release is the hash in JobOpened, and a result for that (or any other guess) does not release.
    function testReleaseOtherLendersResultNamingThePublicNonceHashReverts() public {
        vm.recordLogs();
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 published;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] == PropsEscrow.JobOpened.selector) (published,,,,,,) = abi.decode(logs[i].data, (bytes32, bytes32, address, uint96, address, uint96, uint64));
        }
        vm.assertEq(published, escrow.hashNonce(NONCE), "JobOpened carries the nonce's hash");
        vm.assertTrue(published != NONCE, "and not the nonce");
        PropsEscrow.PropsResult memory res = _result(jobId, published);
        _expectTermsMismatch(jobId, res);
        // The lender's own result, carrying the nonce it handed the enclave, does.
        res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testReleaseResultForOtherPipelineReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        res.pipelineId = keccak256("another pipeline");
        _expectTermsMismatch(jobId, res);
    }

    function testReleaseKeyOfOtherPipelineReverts() public {
        vm.prank(governance);
        bytes32 other = registry.registerPipeline(keccak256("code2"), keccak256("model"), keccak256("policy"), "sim");
        (bytes32 x, bytes32 y, bytes32 id) = _pub(0x07E2);
        PropsRegistry.KeyRegistration memory reg = _reg(id, other, T0 + 1 days);
        registry.registerKey(reg, _auditorSigs(reg, 3));
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(0x07E2, res);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyWrongPipeline.selector, id, pipelineId));
        escrow.release(jobId, res, x, y, r, s);
    }

    function testReleaseTamperedScoreReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        res.score = 850;
        vm.expectRevert(PropsEscrow.EscrowSignatureInvalid.selector);
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testReleaseSignatureForOtherEscrowReverts() public {
        PropsEscrow other = new PropsEscrow(token, registry);
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _p256(ENCLAVE_KEY, other.resultDigest(res));
        vm.expectRevert(PropsEscrow.EscrowSignatureInvalid.selector);
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testReleaseHighSSignatureReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        vm.expectRevert(PropsEscrow.EscrowSignatureInvalid.selector);
        escrow.release(jobId, res, qx, qy, r, bytes32(N - uint256(s)));
    }

    function testReleaseAfterDeadlineReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, res);
        vm.warp(T0 + 1 days + 1);
        vm.expectRevert(abi.encodeWithSelector(PropsEscrow.EscrowDeadlinePassed.selector, jobId));
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testRefundAfterDeadlineReturnsFunds() public {
        uint256 before = token.balanceOf(lender);
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        vm.warp(T0 + 1 days + 1);
        vm.prank(operator); // anyone may trigger it; the funds still go to the lender
        escrow.refund(jobId);
        vm.assertEq(token.balanceOf(lender), before, "lender refunded");
        vm.expectRevert(abi.encodeWithSelector(PropsEscrow.EscrowJobNotOpen.selector, jobId));
        escrow.refund(jobId);
    }

    function testRefundBeforeDeadlineReverts() public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        vm.expectRevert(abi.encodeWithSelector(PropsEscrow.EscrowDeadlineNotReached.selector, jobId));
        escrow.refund(jobId);
    }

    function testOpenInvalidParamsReverts() public {
        vm.startPrank(lender);
        vm.expectRevert(PropsEscrow.EscrowJobInvalid.selector);
        escrow.open(pipelineId, NONCE, INPUTS, dataOwner, 0, operator, 0, T0 + 1);
        vm.expectRevert(PropsEscrow.EscrowJobInvalid.selector);
        escrow.open(pipelineId, NONCE, INPUTS, dataOwner, 1, operator, 1, T0);
        vm.expectRevert(PropsEscrow.EscrowJobInvalid.selector);
        escrow.open(pipelineId, NONCE, INPUTS, address(0), 1, operator, 1, T0 + 1);
        vm.expectRevert(abi.encodeWithSelector(PropsEscrow.EscrowPipelineInactive.selector, keccak256("nope")));
        escrow.open(keccak256("nope"), NONCE, INPUTS, dataOwner, 1, operator, 1, T0 + 1);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ transparency-log path

    function _batch(uint256 first, uint256 n) internal returns (bytes32[] memory leaves, PropsEscrow.PropsResult[] memory results) {
        leaves = new bytes32[](n);
        results = new PropsEscrow.PropsResult[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 nonce = keccak256(abi.encode("batch", first + i));
            uint256 jobId = _open(nonce, 700, 300, T0 + 1 days);
            results[i] = _result(jobId, nonce);
            leaves[i] = _leaf(escrow.hashResult(results[i]));
        }
    }

    function testReleaseWithProofEveryLeafOfBatchPays() public {
        (bytes32[] memory leaves, PropsEscrow.PropsResult[] memory results) = _batch(0, 7);
        bytes32 root = _mth(leaves, 0, 7);
        _postCheckpoint(ENCLAVE_KEY, 7, root);
        for (uint256 i = 0; i < 7; ++i) {
            PropsEscrow.LogProof memory p = PropsEscrow.LogProof(keyId, 7, root, i, _path(leaves, i, 0, 7));
            escrow.releaseWithProof(uint256(results[i].requestId), results[i], p);
        }
        vm.assertEq(token.balanceOf(dataOwner), 4900, "data owner paid 7x");
        vm.assertEq(token.balanceOf(address(escrow)), 0, "escrow empty");
    }

    function testReleaseWithProofUnacceptedCheckpointReverts() public {
        (bytes32[] memory leaves, PropsEscrow.PropsResult[] memory results) = _batch(0, 4);
        bytes32 root = _mth(leaves, 0, 4); // a root the enclave never posted
        PropsEscrow.LogProof memory p = PropsEscrow.LogProof(keyId, 4, root, 1, _path(leaves, 1, 0, 4));
        vm.expectRevert(PropsEscrow.EscrowCheckpointUnknown.selector);
        escrow.releaseWithProof(uint256(results[1].requestId), results[1], p);
    }

    function testReleaseWithProofWrongLeafReverts() public {
        (bytes32[] memory leaves, PropsEscrow.PropsResult[] memory results) = _batch(0, 4);
        bytes32 root = _mth(leaves, 0, 4);
        _postCheckpoint(ENCLAVE_KEY, 4, root);
        PropsEscrow.LogProof memory p = PropsEscrow.LogProof(keyId, 4, root, 2, _path(leaves, 1, 0, 4));
        vm.expectRevert(PropsEscrow.EscrowInclusionProofInvalid.selector);
        escrow.releaseWithProof(uint256(results[1].requestId), results[1], p);
    }

    function testReleaseWithProofTwiceReverts() public {
        (bytes32[] memory leaves, PropsEscrow.PropsResult[] memory results) = _batch(0, 2);
        bytes32 root = _mth(leaves, 0, 2);
        _postCheckpoint(ENCLAVE_KEY, 2, root);
        PropsEscrow.LogProof memory p = PropsEscrow.LogProof(keyId, 2, root, 0, _path(leaves, 0, 0, 2));
        uint256 jobId = uint256(results[0].requestId);
        escrow.releaseWithProof(jobId, results[0], p);
        vm.expectRevert(abi.encodeWithSelector(PropsEscrow.EscrowJobNotOpen.selector, jobId));
        escrow.releaseWithProof(jobId, results[0], p);
    }

    function testReleaseWithProofRevokedKeyReverts() public {
        (bytes32[] memory leaves, PropsEscrow.PropsResult[] memory results) = _batch(0, 2);
        bytes32 root = _mth(leaves, 0, 2);
        _postCheckpoint(ENCLAVE_KEY, 2, root);
        vm.prank(governance);
        registry.revokeKey(keyId);
        PropsEscrow.LogProof memory p = PropsEscrow.LogProof(keyId, 2, root, 0, _path(leaves, 0, 0, 2));
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyRevoked.selector, keyId));
        escrow.releaseWithProof(uint256(results[0].requestId), results[0], p);
    }

    // ------------------------------------------------------------ fuzz

    function testFuzzReleaseForgedSignatureReverts(bytes32 r, bytes32 s, uint16 score) public {
        uint256 jobId = _open(NONCE, 700, 300, T0 + 1 days);
        PropsEscrow.PropsResult memory res = _result(jobId, NONCE);
        res.score = score;
        vm.expectRevert(PropsEscrow.EscrowSignatureInvalid.selector);
        escrow.release(jobId, res, qx, qy, r, s);
    }

    function testFuzzRefundAfterDeadlineAlwaysSucceeds(uint96 a, uint96 b, uint64 late) public {
        vm.assume(uint256(a) + b > 0 && uint256(a) + b <= 1e15);
        uint256 before = token.balanceOf(lender);
        uint256 jobId = _open(NONCE, a, b, T0 + 1 days);
        vm.warp(uint256(T0) + 1 days + 1 + (late % (3650 days)));
        escrow.refund(jobId);
        vm.assertEq(token.balanceOf(lender), before, "refunded in full");
    }

    function testFuzzInclusionProofMatchesReference(uint8 sizeSeed, uint8 indexSeed) public {
        MerkleHarness harness = new MerkleHarness();
        uint256 n = uint256(sizeSeed) % 40 + 1;
        uint256 m = uint256(indexSeed) % n;
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) leaves[i] = _leaf(bytes32(i));
        bytes32 root = _mth(leaves, 0, n);
        bytes32[] memory path = _path(leaves, m, 0, n);
        (bool ok, bytes32 got) = harness.root(m, n, leaves[m], path);
        vm.assertTrue(ok, "proof accepted");
        vm.assertEq(got, root, "root");
        if (n > 1) {
            (ok, got) = harness.root((m + 1) % n, n, leaves[m], path);
            vm.assertTrue(!ok || got != root, "proof for another index rejected");
        }
    }
}

/// @dev Exposes the calldata-only library to fuzzing.
contract MerkleHarness {
    function root(uint256 index, uint256 size, bytes32 leaf, bytes32[] calldata path) external pure returns (bool, bytes32) {
        return MerkleLog.rootFromInclusionProof(index, size, leaf, path);
    }
}
