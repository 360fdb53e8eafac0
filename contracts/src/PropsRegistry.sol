// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

/// @title PropsRegistry
/// @notice Which pipelines (code + model + policy + platform) are allowed, which apps approve them, which enclave
/// keys speak for them, and the transparency-log checkpoints those keys posted. Quote verification stays off
/// chain: a key is registered once, against a k-of-n quorum of auditor EIP-712 signatures over the verifier's result.
/// @dev Enclave keys are P-256 and named by `keyId = keccak256(x || y)`; their signatures are ECDSA P-256 with
/// SHA-256 over the 32-byte EIP-712 digest, low-s, checked through the P256VERIFY precompile (EIP-7951)
/// with OpenZeppelin's Solidity fallback.
contract PropsRegistry is Ownable2Step, EIP712 {
    /// @dev Same tag and layout as `pipelineId()` in protocol/eip712.ts.
    bytes32 private constant PIPELINE_TAG = keccak256("props.pipeline.v1");
    bytes32 private constant SIM_PLATFORM = keccak256("sim");

    bytes32 public constant KEY_REGISTRATION_TYPEHASH = keccak256(
        "KeyRegistration(bytes32 pipelineId,bytes32 keyId,bytes32 evidenceDigest,bytes32 earDigest,uint64 expiresAt)"
    );
    bytes32 public constant CHECKPOINT_TYPEHASH = keccak256("Checkpoint(bytes32 keyId,uint64 treeSize,bytes32 root)");

    struct Pipeline {
        bytes32 codeHash;
        bytes32 modelHash;
        bytes32 policyHash;
        bytes32 platformHash;
        bool registered;
        bool active;
        bool simulated;
    }

    struct EnclaveKey {
        bytes32 pipelineId;
        bytes32 evidenceDigest;
    }

    /// @dev A key's standing for its pipeline, in one slot under keccak256(keyId, pipelineId), so the check
    /// before every payment costs a single storage read.
    struct KeyGrant {
        uint64 registeredAt;
        uint64 expiresAt;
        bool revoked;
    }

    /// @notice The auditors' statement that a key's evidence verified (see REGISTRATION_TYPES in protocol).
    struct KeyRegistration {
        bytes32 pipelineId;
        bytes32 keyId;
        bytes32 evidenceDigest;
        bytes32 earDigest;
        uint64 expiresAt;
    }

    struct Head {
        uint64 treeSize;
        bytes32 root;
    }

    /// @notice Whether simulated-platform pipelines may be registered; false on every production deployment.
    bool public immutable simulationAllowed;

    mapping(bytes32 pipelineId => Pipeline) public pipelines;
    mapping(bytes32 keyId => EnclaveKey) private _keys;
    mapping(bytes32 grantId => KeyGrant) private _grants;
    mapping(address => bool) public isAuditor;
    uint256 public auditorCount;
    uint256 public quorum;
    /// @notice Latest transparency-log head per enclave key; its size only grows.
    mapping(bytes32 keyId => Head) public heads;
    /// @notice checkpointId = keccak256(abi.encode(keyId, treeSize, root)) → the key that posted it.
    mapping(bytes32 checkpointId => bytes32 keyId) public checkpointKey;
    /// @dev Governance's approvals alone; private because an approval only counts while its pipeline is active, which
    /// `isAppPipelineApproved` checks and a raw getter would not.
    mapping(bytes32 appId => mapping(bytes32 pipelineId => bool)) private _appPipelines;

    event AuditorSet(address indexed auditor, bool allowed);
    event QuorumSet(uint256 quorum);
    event PipelineRegistered(
        bytes32 indexed pipelineId, bytes32 codeHash, bytes32 modelHash, bytes32 policyHash, string platform
    );
    event PipelineRevoked(bytes32 indexed pipelineId);
    event AppPipelineApproved(bytes32 indexed appId, bytes32 indexed pipelineId);
    event AppPipelineWithdrawn(bytes32 indexed appId, bytes32 indexed pipelineId);
    event KeyRegistered(
        bytes32 indexed keyId, bytes32 indexed pipelineId, bytes32 evidenceDigest, bytes32 earDigest, uint64 expiresAt
    );
    event KeyRevoked(bytes32 indexed keyId);
    event CheckpointPosted(bytes32 indexed keyId, uint64 treeSize, bytes32 root);

    error RegistrySimulationNotAllowed();
    error RegistryPipelineExists(bytes32 pipelineId);
    error RegistryPipelineUnknown(bytes32 pipelineId);
    error RegistryPipelineInactive(bytes32 pipelineId);
    error RegistryAppPipelineExists(bytes32 appId, bytes32 pipelineId);
    error RegistryAppPipelineNotApproved(bytes32 appId, bytes32 pipelineId);
    error RegistryAuditorUnchanged(address auditor);
    error RegistryQuorumInvalid(uint256 quorum, uint256 auditorCount);
    error RegistryQuorumNotMet(uint256 valid, uint256 required);
    error RegistryAuditorSignatureInvalid(uint256 index);
    error RegistryKeyExists(bytes32 keyId);
    error RegistryKeyUnknown(bytes32 keyId);
    error RegistryKeyRevoked(bytes32 keyId);
    error RegistryKeyExpired(bytes32 keyId);
    error RegistryKeyWrongPipeline(bytes32 keyId, bytes32 pipelineId);
    error RegistryExpiryInvalid();
    error RegistryCheckpointNotGrowing(uint64 current, uint64 proposed);
    error RegistryCheckpointSignatureInvalid();

    constructor(address governance, bool simulationAllowed_) Ownable(governance) EIP712("Props", "1") {
        simulationAllowed = simulationAllowed_;
    }

    // ---------------------------------------------------------------- governance

    function setAuditor(address auditor, bool allowed) external onlyOwner {
        if (auditor == address(0) || isAuditor[auditor] == allowed) revert RegistryAuditorUnchanged(auditor);
        isAuditor[auditor] = allowed;
        uint256 count = allowed ? auditorCount + 1 : auditorCount - 1;
        auditorCount = count;
        // Removing an auditor never leaves a quorum that can no longer be reached.
        if (quorum > count) revert RegistryQuorumInvalid(quorum, count);
        emit AuditorSet(auditor, allowed);
    }

    function setQuorum(uint256 quorum_) external onlyOwner {
        if (quorum_ == 0 || quorum_ > auditorCount) revert RegistryQuorumInvalid(quorum_, auditorCount);
        quorum = quorum_;
        emit QuorumSet(quorum_);
    }

    /// @notice Allow a pipeline; its id is recomputed here exactly as `pipelineId()` in protocol/eip712.ts.
    function registerPipeline(bytes32 codeHash, bytes32 modelHash, bytes32 policyHash, string calldata platform)
        external
        onlyOwner
        returns (bytes32 pipelineId)
    {
        bytes32 platformHash = keccak256(bytes(platform));
        bool simulated = platformHash == SIM_PLATFORM;
        if (simulated && !simulationAllowed) revert RegistrySimulationNotAllowed();
        pipelineId = keccak256(abi.encode(PIPELINE_TAG, codeHash, modelHash, policyHash, platformHash));
        // A revoked pipeline stays revoked: the same id can never be allowed again.
        if (pipelines[pipelineId].registered) revert RegistryPipelineExists(pipelineId);
        pipelines[pipelineId] = Pipeline(codeHash, modelHash, policyHash, platformHash, true, true, simulated);
        emit PipelineRegistered(pipelineId, codeHash, modelHash, policyHash, platform);
    }

    function revokePipeline(bytes32 pipelineId) external onlyOwner {
        Pipeline storage p = pipelines[pipelineId];
        if (!p.registered) revert RegistryPipelineUnknown(pipelineId);
        p.active = false;
        emit PipelineRevoked(pipelineId);
    }

    function revokeKey(bytes32 keyId) external onlyOwner {
        KeyGrant storage g = _grants[_grantId(keyId, _keys[keyId].pipelineId)];
        if (g.registeredAt == 0) revert RegistryKeyUnknown(keyId);
        g.revoked = true;
        emit KeyRevoked(keyId);
    }

    // ---------------------------------------------------------------- apps

    /// @notice Approve `pipelineId` for `appId`, an app being a family of pipelines that may read each other's data:
    /// the key-release service (KMS) then hands the app's fleet secrets to instances of that pipeline whose evidence
    /// verifies. An upgrade is a new pipeline approved for the same app, so it reads what older versions wrote.
    /// @dev WARNING: an approved pipeline can decrypt everything encrypted to the app, past data included.
    function approveAppPipeline(bytes32 appId, bytes32 pipelineId) external onlyOwner {
        Pipeline storage p = pipelines[pipelineId];
        if (!p.active) {
            if (!p.registered) revert RegistryPipelineUnknown(pipelineId);
            revert RegistryPipelineInactive(pipelineId);
        }
        if (_appPipelines[appId][pipelineId]) revert RegistryAppPipelineExists(appId, pipelineId);
        _appPipelines[appId][pipelineId] = true;
        emit AppPipelineApproved(appId, pipelineId);
    }

    /// @notice Withdraw an approval: the KMS stops releasing the app's secrets to instances of that pipeline.
    /// @dev WARNING: secrets already released stay with the instances that hold them; rotate the app's secrets to
    /// cut those off too.
    function withdrawAppPipeline(bytes32 appId, bytes32 pipelineId) external onlyOwner {
        if (!_appPipelines[appId][pipelineId]) revert RegistryAppPipelineNotApproved(appId, pipelineId);
        delete _appPipelines[appId][pipelineId];
        emit AppPipelineWithdrawn(appId, pipelineId);
    }

    /// @notice Whether the KMS may release `appId`'s secrets to an instance of `pipelineId`: approved for that app,
    /// not withdrawn, and the pipeline still active, so revoking a pipeline takes it out of every app at once.
    function isAppPipelineApproved(bytes32 appId, bytes32 pipelineId) external view returns (bool) {
        return _appPipelines[appId][pipelineId] && pipelines[pipelineId].active;
    }

    // ---------------------------------------------------------------- keys

    /// @notice Register an enclave key once, against `quorum` distinct auditor signatures over `reg`.
    /// @param sigs 65-byte ECDSA signatures (r, s, v), ordered by strictly ascending signer address so that no
    /// auditor counts twice.
    function registerKey(KeyRegistration calldata reg, bytes[] calldata sigs) external {
        Pipeline storage p = pipelines[reg.pipelineId];
        if (!p.active) revert RegistryPipelineInactive(reg.pipelineId);
        // A key is registered once, for one pipeline, forever (revocation included).
        if (_keys[reg.keyId].pipelineId != bytes32(0)) revert RegistryKeyExists(reg.keyId);
        if (reg.expiresAt <= block.timestamp) revert RegistryExpiryInvalid();

        uint256 required = quorum;
        if (sigs.length < required || required == 0) revert RegistryQuorumNotMet(sigs.length, required);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(KEY_REGISTRATION_TYPEHASH, reg)));
        address last = address(0);
        for (uint256 i = 0; i < required; ++i) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, sigs[i]);
            if (err != ECDSA.RecoverError.NoError || signer <= last || !isAuditor[signer]) {
                revert RegistryAuditorSignatureInvalid(i);
            }
            last = signer;
        }

        _keys[reg.keyId] = EnclaveKey(reg.pipelineId, reg.evidenceDigest);
        _grants[_grantId(reg.keyId, reg.pipelineId)] = KeyGrant(uint64(block.timestamp), reg.expiresAt, false);
        emit KeyRegistered(reg.keyId, reg.pipelineId, reg.evidenceDigest, reg.earDigest, reg.expiresAt);
    }

    /// @notice Reverts with the reason unless `keyId` is registered, unrevoked, unexpired and speaks for an
    /// active `pipelineId`. The escrow calls this before every payment.
    function requireValidKey(bytes32 keyId, bytes32 pipelineId) public view {
        KeyGrant storage g = _grants[_grantId(keyId, pipelineId)];
        if (g.registeredAt == 0) {
            bytes32 registeredFor = _keys[keyId].pipelineId;
            if (registeredFor == bytes32(0)) revert RegistryKeyUnknown(keyId);
            revert RegistryKeyWrongPipeline(keyId, pipelineId);
        }
        if (g.revoked) revert RegistryKeyRevoked(keyId);
        if (g.expiresAt <= block.timestamp) revert RegistryKeyExpired(keyId);
        if (!pipelines[pipelineId].active) revert RegistryPipelineInactive(pipelineId);
    }

    /// @notice Everything recorded about an enclave key.
    function keys(bytes32 keyId)
        external
        view
        returns (bytes32 pipelineId, bytes32 evidenceDigest, uint64 registeredAt, uint64 expiresAt, bool revoked)
    {
        EnclaveKey storage k = _keys[keyId];
        KeyGrant storage g = _grants[_grantId(keyId, k.pipelineId)];
        return (k.pipelineId, k.evidenceDigest, g.registeredAt, g.expiresAt, g.revoked);
    }

    function _grantId(bytes32 keyId, bytes32 pipelineId) private pure returns (bytes32) {
        return keccak256(abi.encode(keyId, pipelineId));
    }

    // ---------------------------------------------------------------- transparency log

    /// @notice Post a signed log head of enclave key (qx, qy). Anyone may relay it; the size must grow, which lets a
    /// restarted enclave see that its host rolled its log back.
    function postCheckpoint(bytes32 qx, bytes32 qy, uint64 treeSize, bytes32 root, bytes32 r, bytes32 s) external {
        bytes32 keyId = keccak256(abi.encodePacked(qx, qy));
        requireValidKey(keyId, _keys[keyId].pipelineId);
        Head storage head = heads[keyId];
        uint64 current = head.treeSize;
        if (treeSize <= current) revert RegistryCheckpointNotGrowing(current, treeSize);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CHECKPOINT_TYPEHASH, keyId, treeSize, root)));
        if (!P256.verify(sha256(abi.encodePacked(digest)), r, s, qx, qy)) revert RegistryCheckpointSignatureInvalid();

        head.treeSize = treeSize;
        head.root = root;
        checkpointKey[keccak256(abi.encode(keyId, treeSize, root))] = keyId;
        emit CheckpointPosted(keyId, treeSize, root);
    }

    /// @notice The EIP-712 digest of a checkpoint under this registry's domain (for off-chain signers and tests).
    function checkpointDigest(bytes32 keyId, uint64 treeSize, bytes32 root) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CHECKPOINT_TYPEHASH, keyId, treeSize, root)));
    }

    function keyRegistrationDigest(KeyRegistration calldata reg) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(KEY_REGISTRATION_TYPEHASH, reg)));
    }
}
