// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {PropsEscrow} from "../src/PropsEscrow.sol";
import {PropsRegistry} from "../src/PropsRegistry.sol";

/// @notice The issue's gas targets: release ≤ 60,000 in steady state on both paths, key registration with a
/// 3-of-5 quorum ≤ 150,000. Each figure is the gas of the called frame (`vm.lastCallGas`, the number forge's gas
/// report shows) with every contract and storage slot cold (`vm.cool`) and the measured call in a test of its own
/// after setUp, so no slot is already dirty: the execution gas of a fresh transaction, without its 21,000 intrinsic
/// gas and calldata. Values land in snapshots/Gas*.json.
abstract contract GasBase is Fixture {
    uint256 internal constant BATCH = 16;
    bytes32[] internal leaves;
    PropsEscrow.PropsResult[] internal results;
    bytes32 internal root;

    function _setUpBatch() internal {
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

    function _cool() internal {
        vm.cool(address(escrow));
        vm.cool(address(registry));
        vm.cool(address(token));
    }

    function _sigRelease(uint256 i) internal returns (uint256 g) {
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, results[i]);
        PropsEscrow.PropsResult memory res = results[i];
        _cool();
        escrow.release(i + 1, res, qx, qy, r, s);
        g = vm.lastCallGas().gasTotalUsed;
    }

    function _proofRelease(uint256 i) internal returns (uint256 g) {
        PropsEscrow.LogProof memory p = PropsEscrow.LogProof(keyId, uint64(BATCH), root, i, _path(leaves, i, 0, BATCH));
        PropsEscrow.PropsResult memory res = results[i];
        _cool();
        escrow.releaseWithProof(i + 1, res, p);
        g = vm.lastCallGas().gasTotalUsed;
    }

    function _record(string memory name, uint256 g, uint256 limit) internal {
        emit log_named_uint(name, g);
        vm.snapshotValue(name, g);
        vm.assertLe(g, limit, name);
    }
}

/// @notice First payment: the payees hold no balance yet (two zero-to-nonzero token slots).
contract GasFirstPaymentTest is GasBase {
    function setUp() public {
        _setUpBatch();
    }

    function testGasReleaseSignatureFirstPayment() public {
        _record("release, signature, first payment", _sigRelease(0), 110_000);
    }

    function testGasReleaseProofFirstPayment() public {
        _record("release, inclusion proof (16 leaves), first payment", _proofRelease(0), 110_000);
    }

    function testGasRegisterKeyQuorum3of5() public {
        (,, bytes32 id) = _pub(0x5EC0D);
        PropsRegistry.KeyRegistration memory reg = _reg(id, pipelineId, T0 + 30 days);
        bytes[] memory sigs = _auditorSigs(reg, 3);
        _cool();
        registry.registerKey(reg, sigs);
        uint256 g = vm.lastCallGas().gasTotalUsed;
        _record("registerKey, 3-of-5 quorum", g, 150_000);
    }
}

/// @notice Steady state: the payees already hold a balance (job 1 was paid in setUp, a transaction of its own).
contract GasSteadyStateTest is GasBase {
    function setUp() public {
        _setUpBatch();
        (bytes32 r, bytes32 s) = _signResult(ENCLAVE_KEY, results[0]);
        escrow.release(1, results[0], qx, qy, r, s);
    }

    function testGasReleaseSignatureSteadyState() public {
        _record("release, signature, steady state", _sigRelease(1), 60_000);
    }

    function testGasReleaseProofSteadyState() public {
        _record("release, inclusion proof (16 leaves), steady state", _proofRelease(5), 60_000);
    }
}

/// @notice Apps: governance approving a pipeline for an app, and the KMS's question before every key release.
contract GasAppTest is GasBase {
    bytes32 internal constant APP = keccak256("app");

    function setUp() public {
        _deploy();
        vm.prank(governance);
        registry.approveAppPipeline(APP, pipelineId);
    }

    function testGasApproveAppPipeline() public {
        _cool();
        vm.prank(governance);
        registry.approveAppPipeline(keccak256("another app"), pipelineId);
        _record("approveAppPipeline", vm.lastCallGas().gasTotalUsed, 50_000);
    }

    function testGasIsAppPipelineApproved() public {
        _cool();
        bool approved = registry.isAppPipelineApproved(APP, pipelineId);
        uint256 g = vm.lastCallGas().gasTotalUsed;
        vm.assertTrue(approved, "approved");
        _record("isAppPipelineApproved, approved (two cold reads)", g, 10_000);
    }
}
