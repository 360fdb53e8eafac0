// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice The few forge cheatcodes these tests use (forge-std is not on the npm registry in a current version).
interface Vm {
    struct Gas {
        uint64 gasLimit;
        uint64 gasTotalUsed;
        uint64 gasMemoryUsed;
        int64 gasRefunded;
        uint64 gasRemaining;
    }

    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function lastCallGas() external view returns (Gas memory gas);
    function warp(uint256 timestamp) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 selector) external;
    function expectRevert() external;
    function expectEmit() external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function signP256(uint256 privateKey, bytes32 digest) external pure returns (bytes32 r, bytes32 s);
    function publicKeyP256(uint256 privateKey) external pure returns (uint256 x, uint256 y);
    function assume(bool condition) external pure;
    function assertEq(uint256 a, uint256 b, string calldata err) external pure;
    function assertEq(bytes32 a, bytes32 b, string calldata err) external pure;
    function assertEq(address a, address b, string calldata err) external pure;
    function assertTrue(bool c, string calldata err) external pure;
    function assertLe(uint256 a, uint256 b, string calldata err) external pure;
    function cool(address target) external;
    function snapshotValue(string calldata name, uint256 value) external;
    function pauseGasMetering() external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function resumeGasMetering() external;
}
