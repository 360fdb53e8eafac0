// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {PropsEscrow} from "../src/PropsEscrow.sol";
import {PropsRegistry} from "../src/PropsRegistry.sol";

/// @notice The issue's gas targets, measured around the one call (no 21,000 intrinsic gas, no calldata cost):
/// release ≤ 60,000 in steady state on both paths; the first payment to fresh payees is reported alongside.
contract GasTest is Fixture {
    uint256 internal constant BATCH = 16;
    bytes32[] internal leaves;
    PropsEscrow.PropsResult[] internal results;
    bytes32 internal root;

    function setUp() public {
        _deploy();
        _registerKey(ENCLAVE_KEY, T0 + 30 days);
        // Jobs 1..BATCH, one log checkpoint over their results.
        for (uint256 i = 0; i < BATCH; ++i) {
            bytes32 nonce = keccak256(abi.encode(i));
            uint256 jobId = _open(nonce, 700, 300, T0 + 1 days);
            results.push(_result(jobId, nonce));
            leaves.push(_leaf(escrow.hashResult(results[i])));
        }
        root = _mth(leaves, 0, BATCH);
        _postCheckpoint(ENCLAVE_KEY, uint64(BATCH), root);
    }

    /// @dev Every call measured here starts as its own transaction would: contracts and their slots cold. (The
    /// escrow's own account is warm in a real transaction, so these figures overstate by 2,600.)
    function _cool() internal {
        vm.cool(address(escrow));
        vm.cool(address(registry));
        vm.cool(address(token));
    }

    function _sigRelease(uint256 i) internal returns (uint256 g) {
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, results[i]);
        PropsEscrow.PropsResult memory res = results[i];
        _cool();
        g = gasleft();
        escrow.release(i + 1, res, qx, qy, r, s);
        g -= gasleft();
    }

    function _proofRelease(uint256 i) internal returns (uint256 g) {
        PropsEscrow.LogProof memory p = PropsEscrow.LogProof(keyId, uint64(BATCH), root, i, _path(leaves, i, 0, BATCH));
        PropsEscrow.PropsResult memory res = results[i];
        _cool();
        g = gasleft();
        escrow.releaseWithProof(i + 1, res, p);
        g -= gasleft();
    }

    function testGasReleaseSignatureFirstPayment() public {
        uint256 g = _sigRelease(0);
        emit log_named_uint("first-payment release (signature)", g);
        vm.snapshotValue("first-payment release (signature)", g);
        vm.assertLe(g, 110_000, "first-payment release (signature)");
    }

    function testGasReleaseSignatureSteadyState() public {
        _sigRelease(0);
        uint256 g = _sigRelease(1);
        emit log_named_uint("steady-state release (signature)", g);
        vm.snapshotValue("steady-state release (signature)", g);
        vm.assertLe(g, 60_000, "steady-state release (signature)");
    }

    function testGasReleaseProofFirstPayment() public {
        uint256 g = _proofRelease(0);
        emit log_named_uint("first-payment release (inclusion proof, 16 leaves)", g);
        vm.snapshotValue("first-payment release (inclusion proof, 16 leaves)", g);
        vm.assertLe(g, 110_000, "first-payment release (inclusion proof, 16 leaves)");
    }

    function testGasReleaseProofSteadyState() public {
        _proofRelease(0);
        uint256 g = _proofRelease(5);
        emit log_named_uint("steady-state release (inclusion proof, 16 leaves)", g);
        vm.snapshotValue("steady-state release (inclusion proof, 16 leaves)", g);
        vm.assertLe(g, 60_000, "steady-state release (inclusion proof, 16 leaves)");
    }

    function testGasRegisterKeyQuorum3of5() public {
        (,, bytes32 id) = _pub(0x5EC0D);
        PropsRegistry.KeyRegistration memory reg = _reg(id, pipelineId, T0 + 30 days);
        bytes[] memory sigs = _auditorSigs(reg, 3);
        _cool();
        uint256 g = gasleft();
        registry.registerKey(reg, sigs);
        g -= gasleft();
        emit log_named_uint("registerKey 3-of-5", g);
        vm.snapshotValue("registerKey 3-of-5", g);
        vm.assertLe(g, 150_000, "registerKey 3-of-5");
    }
}
