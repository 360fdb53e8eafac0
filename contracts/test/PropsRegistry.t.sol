// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {PropsRegistry} from "../src/PropsRegistry.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract PropsRegistryTest is Fixture {
    function setUp() public {
        _deploy();
    }

    function testRegisterPipelineIdMatchesProtocolFormula() public view {
        bytes32 expected = keccak256(
            abi.encode(keccak256("props.pipeline.v1"), keccak256("code"), keccak256("model"), keccak256("policy"), keccak256("sim"))
        );
        vm.assertEq(pipelineId, expected, "pipelineId");
    }

    function testRegisterPipelineSimOnProductionReverts() public {
        PropsRegistry prod = new PropsRegistry(governance, false);
        vm.prank(governance);
        vm.expectRevert(PropsRegistry.RegistrySimulationNotAllowed.selector);
        prod.registerPipeline(keccak256("code"), keccak256("model"), keccak256("policy"), "sim");
        vm.prank(governance);
        prod.registerPipeline(keccak256("code"), keccak256("model"), keccak256("policy"), "tdx");
    }

    function testRegisterPipelineByStrangerReverts() public {
        vm.prank(lender);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, lender));
        registry.registerPipeline(bytes32(0), bytes32(0), bytes32(0), "tdx");
    }

    function testRegisterPipelineTwiceReverts() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryPipelineExists.selector, pipelineId));
        registry.registerPipeline(keccak256("code"), keccak256("model"), keccak256("policy"), "sim");
    }

    function testRegisterKeyWithQuorumStoresKey() public {
        bytes32 id = _registerKey(ENCLAVE_KEY, T0 + 30 days);
        (bytes32 pid, bytes32 ev, uint64 regAt, uint64 exp, bool revoked) = registry.keys(id);
        vm.assertEq(pid, pipelineId, "pipeline");
        vm.assertEq(ev, keccak256("evidence"), "evidence");
        vm.assertEq(regAt, T0, "registeredAt");
        vm.assertEq(exp, T0 + 30 days, "expiresAt");
        vm.assertTrue(!revoked, "revoked");
        registry.requireValidKey(id, pipelineId);
    }

    function testRegisterKeyTwiceReverts() public {
        bytes32 id = _registerKey(ENCLAVE_KEY, T0 + 30 days);
        PropsRegistry.KeyRegistration memory reg = _reg(id, pipelineId, T0 + 30 days);
        bytes[] memory sigs = _auditorSigs(reg, 3);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyExists.selector, id));
        registry.registerKey(reg, sigs);
    }

    function testRegisterKeyBelowQuorumReverts() public {
        PropsRegistry.KeyRegistration memory reg = _reg(keyId, pipelineId, T0 + 1 days);
        bytes[] memory sigs = _auditorSigs(reg, 2);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryQuorumNotMet.selector, 2, 3));
        registry.registerKey(reg, sigs);
    }

    function testRegisterKeyDuplicateAuditorReverts() public {
        PropsRegistry.KeyRegistration memory reg = _reg(keyId, pipelineId, T0 + 1 days);
        bytes[] memory sigs = _auditorSigs(reg, 3);
        sigs[1] = sigs[0];
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryAuditorSignatureInvalid.selector, 1));
        registry.registerKey(reg, sigs);
    }

    function testRegisterKeyNonAuditorSignatureReverts() public {
        PropsRegistry.KeyRegistration memory reg = _reg(keyId, pipelineId, T0 + 1 days);
        bytes[] memory sigs = _auditorSigs(reg, 3);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(0xBAD, registry.keyRegistrationDigest(reg));
        sigs[0] = abi.encodePacked(r, s, v);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryAuditorSignatureInvalid.selector, 0));
        registry.registerKey(reg, sigs);
    }

    function testRegisterKeySignatureOverOtherFieldsReverts() public {
        PropsRegistry.KeyRegistration memory reg = _reg(keyId, pipelineId, T0 + 1 days);
        bytes[] memory sigs = _auditorSigs(reg, 3);
        reg.expiresAt = T0 + 365 days; // the host stretches the expiry the auditors signed
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryAuditorSignatureInvalid.selector, 0));
        registry.registerKey(reg, sigs);
    }

    function testRegisterKeyAlreadyExpiredReverts() public {
        PropsRegistry.KeyRegistration memory reg = _reg(keyId, pipelineId, T0);
        bytes[] memory sigs = _auditorSigs(reg, 3);
        vm.expectRevert(PropsRegistry.RegistryExpiryInvalid.selector);
        registry.registerKey(reg, sigs);
    }

    function testRegisterKeyRevokedPipelineReverts() public {
        vm.prank(governance);
        registry.revokePipeline(pipelineId);
        PropsRegistry.KeyRegistration memory reg = _reg(keyId, pipelineId, T0 + 1 days);
        bytes[] memory sigs = _auditorSigs(reg, 3);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryPipelineInactive.selector, pipelineId));
        registry.registerKey(reg, sigs);
    }

    function testRequireValidKeyRevokedReverts() public {
        bytes32 id = _registerKey(ENCLAVE_KEY, T0 + 1 days);
        vm.prank(governance);
        registry.revokeKey(id);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyRevoked.selector, id));
        registry.requireValidKey(id, pipelineId);
    }

    function testRequireValidKeyExpiredReverts() public {
        bytes32 id = _registerKey(ENCLAVE_KEY, T0 + 1 days);
        vm.warp(T0 + 1 days);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyExpired.selector, id));
        registry.requireValidKey(id, pipelineId);
    }

    function testSetQuorumAboveAuditorsReverts() public {
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryQuorumInvalid.selector, 6, 5));
        registry.setQuorum(6);
    }

    bytes32 internal constant APP = keccak256("app");
    bytes32 internal constant OTHER_APP = keccak256("other app");

    event AppPipelineApproved(bytes32 indexed appId, bytes32 indexed pipelineId);
    event AppPipelineWithdrawn(bytes32 indexed appId, bytes32 indexed pipelineId);

    function _approve(bytes32 appId, bytes32 pid) internal {
        vm.prank(governance);
        registry.approveAppPipeline(appId, pid);
    }

    function testApproveAppPipelineApprovesForThatAppOnly() public {
        vm.assertTrue(!registry.isAppPipelineApproved(APP, pipelineId), "before");
        vm.expectEmit();
        emit AppPipelineApproved(APP, pipelineId);
        _approve(APP, pipelineId);
        vm.assertTrue(registry.isAppPipelineApproved(APP, pipelineId), "approved");
        vm.assertTrue(!registry.isAppPipelineApproved(OTHER_APP, pipelineId), "other app");
    }

    function testApproveAppPipelineByStrangerReverts() public {
        vm.prank(lender);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, lender));
        registry.approveAppPipeline(APP, pipelineId);
    }

    function testApproveAppPipelineTwiceReverts() public {
        _approve(APP, pipelineId);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryAppPipelineExists.selector, APP, pipelineId));
        registry.approveAppPipeline(APP, pipelineId);
    }

    function testApproveAppPipelineUnknownPipelineReverts() public {
        bytes32 unknown = keccak256("unregistered pipeline");
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryPipelineUnknown.selector, unknown));
        registry.approveAppPipeline(APP, unknown);
    }

    function testApproveAppPipelineRevokedPipelineReverts() public {
        vm.prank(governance);
        registry.revokePipeline(pipelineId);
        vm.prank(governance);
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryPipelineInactive.selector, pipelineId));
        registry.approveAppPipeline(APP, pipelineId);
    }

    function testIsAppPipelineApprovedRevokedPipelineFalse() public {
        _approve(APP, pipelineId);
        _approve(OTHER_APP, pipelineId);
        vm.prank(governance);
        registry.revokePipeline(pipelineId);
        vm.assertTrue(!registry.isAppPipelineApproved(APP, pipelineId), "app");
        vm.assertTrue(!registry.isAppPipelineApproved(OTHER_APP, pipelineId), "other app");
    }

    function testWithdrawAppPipelineStopsApproval() public {
        _approve(APP, pipelineId);
        _approve(OTHER_APP, pipelineId);
        vm.expectEmit();
        emit AppPipelineWithdrawn(APP, pipelineId);
        vm.prank(governance);
        registry.withdrawAppPipeline(APP, pipelineId);
        vm.assertTrue(!registry.isAppPipelineApproved(APP, pipelineId), "withdrawn");
        vm.assertTrue(registry.isAppPipelineApproved(OTHER_APP, pipelineId), "other app kept");
        // A withdrawal is not a ban: governance may approve the pipeline for the app again.
        _approve(APP, pipelineId);
        vm.assertTrue(registry.isAppPipelineApproved(APP, pipelineId), "approved again");
    }

    function testWithdrawAppPipelineNotApprovedReverts() public {
        _approve(APP, pipelineId);
        vm.prank(governance);
        vm.expectRevert(
            abi.encodeWithSelector(PropsRegistry.RegistryAppPipelineNotApproved.selector, OTHER_APP, pipelineId)
        );
        registry.withdrawAppPipeline(OTHER_APP, pipelineId);
    }

    function testWithdrawAppPipelineRevokedPipelineSucceeds() public {
        _approve(APP, pipelineId);
        vm.startPrank(governance);
        registry.revokePipeline(pipelineId);
        registry.withdrawAppPipeline(APP, pipelineId);
        vm.stopPrank();
        vm.assertTrue(!registry.isAppPipelineApproved(APP, pipelineId), "withdrawn");
    }

    function testWithdrawAppPipelineByStrangerReverts() public {
        _approve(APP, pipelineId);
        vm.prank(lender);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, lender));
        registry.withdrawAppPipeline(APP, pipelineId);
    }

    function testFuzzApproveAppPipelineOtherAppNotApproved(bytes32 appId, bytes32 otherApp, bytes32 otherPipeline)
        public
    {
        vm.assume(appId != otherApp && otherPipeline != pipelineId);
        _approve(appId, pipelineId);
        vm.assertTrue(registry.isAppPipelineApproved(appId, pipelineId), "approved");
        vm.assertTrue(!registry.isAppPipelineApproved(otherApp, pipelineId), "other app");
        vm.assertTrue(!registry.isAppPipelineApproved(appId, otherPipeline), "other pipeline");
    }

    function testPostCheckpointGrowingAccepted() public {
        _registerKey(ENCLAVE_KEY, T0 + 1 days);
        _postCheckpoint(ENCLAVE_KEY, 1, keccak256("r1"));
        _postCheckpoint(ENCLAVE_KEY, 5, keccak256("r5"));
        (uint64 size, bytes32 root) = registry.heads(keyId);
        vm.assertEq(size, 5, "size");
        vm.assertEq(root, keccak256("r5"), "root");
        vm.assertEq(registry.checkpointKey(keccak256(abi.encode(keyId, uint64(1), keccak256("r1")))), keyId, "old kept");
    }

    function testPostCheckpointRollbackReverts() public {
        _registerKey(ENCLAVE_KEY, T0 + 1 days);
        _postCheckpoint(ENCLAVE_KEY, 5, keccak256("r5"));
        (bytes32 r, bytes32 s) = _p256(ENCLAVE_KEY, registry.checkpointDigest(keyId, 4, keccak256("r4")));
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryCheckpointNotGrowing.selector, 5, 4));
        registry.postCheckpoint(qx, qy, 4, keccak256("r4"), r, s);
    }

    function testPostCheckpointForgedSignatureReverts() public {
        _registerKey(ENCLAVE_KEY, T0 + 1 days);
        (bytes32 r, bytes32 s) = _p256(ENCLAVE_KEY, registry.checkpointDigest(keyId, 7, keccak256("r7")));
        vm.expectRevert(PropsRegistry.RegistryCheckpointSignatureInvalid.selector);
        registry.postCheckpoint(qx, qy, 7, keccak256("other root"), r, s);
    }

    function testPostCheckpointUnregisteredKeyReverts() public {
        (bytes32 r, bytes32 s) = _p256(ENCLAVE_KEY, registry.checkpointDigest(keyId, 1, keccak256("r")));
        vm.expectRevert(abi.encodeWithSelector(PropsRegistry.RegistryKeyUnknown.selector, keyId));
        registry.postCheckpoint(qx, qy, 1, keccak256("r"), r, s);
    }

    function testPostCheckpointHighSReverts() public {
        _registerKey(ENCLAVE_KEY, T0 + 1 days);
        (bytes32 r, bytes32 s) = _p256(ENCLAVE_KEY, registry.checkpointDigest(keyId, 1, keccak256("r")));
        vm.expectRevert(PropsRegistry.RegistryCheckpointSignatureInvalid.selector);
        registry.postCheckpoint(qx, qy, 1, keccak256("r"), r, bytes32(N - uint256(s)));
    }
}
