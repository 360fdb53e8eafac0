// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {PropsEscrow} from "../src/PropsEscrow.sol";
import {PropsToken} from "../src/PropsToken.sol";

/// @notice Drives the escrow with random opens, signed and forged releases, refunds and time jumps.
contract EscrowHandler is Fixture {
    uint256 internal constant ROGUE_KEY = 0xBAD;
    uint256[] public jobIds;
    uint256 public releasedCount;
    uint256 public forgedAccepted;
    uint256 public doubleReleased;
    uint256 public refundBlocked;
    mapping(uint256 => bool) internal paid;
    mapping(uint256 => bytes32) internal nonceOf;

    constructor(PropsEscrow escrow_, bytes32 pipelineId_) {
        escrow = escrow_;
        token = PropsToken(address(escrow_.token()));
        pipelineId = pipelineId_;
        lender = address(this);
        (qx, qy, keyId) = _pub(ENCLAVE_KEY);
        token.approve(address(escrow_), type(uint256).max);
    }

    function open(uint96 a, uint96 b, uint32 ttl) external {
        a = uint96(a % 1e9);
        b = uint96(b % 1e9);
        if (a == 0 && b == 0) a = 1;
        bytes32 nonce = keccak256(abi.encode(jobIds.length));
        uint256 id = _open(nonce, a, b, uint64(block.timestamp) + 1 + (ttl % 7 days));
        jobIds.push(id);
        nonceOf[id] = nonce;
    }

    function release(uint256 seed, bool forged) external {
        if (jobIds.length == 0) return;
        uint256 id = jobIds[seed % jobIds.length];
        PropsEscrow.PropsResult memory res = _result(id, nonceOf[id]);
        (bytes32 r, bytes32 s) = _signResult(forged ? ROGUE_KEY : ENCLAVE_KEY, res);
        try escrow.release(id, res, qx, qy, r, s) {
            if (forged) forgedAccepted++;
            if (paid[id]) doubleReleased++;
            paid[id] = true;
            releasedCount++;
        } catch {}
    }

    function refund(uint256 seed) external {
        if (jobIds.length == 0) return;
        uint256 id = jobIds[seed % jobIds.length];
        (, uint64 deadline, PropsEscrow.Status status,,,,,) = escrow.jobs(id);
        bool due = status == PropsEscrow.Status.Open && block.timestamp > deadline;
        try escrow.refund(id) {}
        catch {
            if (due) refundBlocked++;
        }
    }

    function warp(uint32 dt) external {
        vm.warp(block.timestamp + (dt % 2 days));
    }

    function jobCount() external view returns (uint256) {
        return jobIds.length;
    }
}

contract EscrowInvariantTest is Fixture {
    EscrowHandler internal handler;

    function setUp() public {
        _deploy();
        _registerKey(ENCLAVE_KEY, T0 + 3650 days);
        handler = new EscrowHandler(escrow, pipelineId);
        token.mint(address(handler), 1e30);
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    /// @notice The escrow holds exactly the sum of its open jobs: nothing stranded, nothing paid out of thin air.
    function invariant_escrowedBalanceEqualsOpenJobs() public view {
        uint256 sum = 0;
        uint256 n = escrow.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            (,, PropsEscrow.Status status,, uint96 a,, uint96 b,) = escrow.jobs(id);
            if (status == PropsEscrow.Status.Open) sum += uint256(a) + b;
        }
        vm.assertEq(token.balanceOf(address(escrow)), sum, "escrow balance == open jobs");
    }

    function invariant_noReleaseWithoutValidSignature() public view {
        vm.assertEq(handler.forgedAccepted(), 0, "forged release accepted");
    }

    function invariant_noDoubleRelease() public view {
        vm.assertEq(handler.doubleReleased(), 0, "double release");
    }

    function invariant_refundAlwaysPossibleAfterDeadline() public view {
        vm.assertEq(handler.refundBlocked(), 0, "refund blocked");
    }
}
